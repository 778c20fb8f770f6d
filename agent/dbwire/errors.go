package dbwire

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil/agent/redact"
)

// maxErrorLen caps a reported error message.
const maxErrorLen = 256

// safeError renders a server error for an event: the condition name and the
// server's message with quoted text and numbers replaced by ?, since messages
// quote the offending values ("invalid input syntax for type integer:
// \"abc\"", "Duplicate entry 'x' for key ..."). With redaction off the
// message is kept.
func safeError(r *redact.Redactor, name, msg string) string {
	if !r.Disabled() {
		msg = redactMessage(msg)
	}
	if name != "" {
		if msg == "" {
			msg = name
		} else {
			msg = name + ": " + msg
		}
	}
	if len(msg) > maxErrorLen {
		msg = strings.ToValidUTF8(msg[:maxErrorLen], "")
	}
	return msg
}

// redactMessage replaces quoted segments and digit runs with ?. An unclosed
// quote hides the rest of the message.
func redactMessage(msg string) string {
	var b strings.Builder
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := strings.IndexByte(msg[i+1:], c)
			b.WriteByte(c)
			b.WriteByte('?')
			if j < 0 {
				return b.String()
			}
			b.WriteByte(c)
			i += j + 1
		case c >= '0' && c <= '9':
			for i+1 < len(msg) && (msg[i+1] >= '0' && msg[i+1] <= '9' || msg[i+1] == '.') {
				i++
			}
			b.WriteByte('?')
		case c < 0x20:
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// pgConditionName names a SQLSTATE (the common ones; else its class).
func pgConditionName(code string) string {
	if n, ok := pgConditions[code]; ok {
		return n
	}
	if len(code) == 5 {
		if n, ok := pgClasses[code[:2]]; ok {
			return n
		}
	}
	return ""
}

var pgConditions = map[string]string{
	"42P01": "undefined_table", "42703": "undefined_column", "42883": "undefined_function",
	"42601": "syntax_error", "42501": "insufficient_privilege", "42P02": "undefined_parameter",
	"42704": "undefined_object", "42P07": "duplicate_table", "42701": "duplicate_column",
	"23505": "unique_violation", "23503": "foreign_key_violation", "23502": "not_null_violation",
	"23514": "check_violation", "22P02": "invalid_text_representation", "22012": "division_by_zero",
	"22001": "string_data_right_truncation", "22003": "numeric_value_out_of_range",
	"40001": "serialization_failure", "40P01": "deadlock_detected", "57014": "query_canceled",
	"25P02": "in_failed_sql_transaction", "28P01": "invalid_password", "28000": "invalid_authorization_specification",
	"3D000": "invalid_catalog_name", "53300": "too_many_connections", "57P01": "admin_shutdown",
	"0A000": "feature_not_supported", "26000": "invalid_sql_statement_name", "34000": "invalid_cursor_name",
	"55P03": "lock_not_available", "P0001": "raise_exception",
}

var pgClasses = map[string]string{
	"08": "connection_exception", "0A": "feature_not_supported", "21": "cardinality_violation",
	"22": "data_exception", "23": "integrity_constraint_violation", "24": "invalid_cursor_state",
	"25": "invalid_transaction_state", "28": "invalid_authorization_specification",
	"3D": "invalid_catalog_name", "3F": "invalid_schema_name", "40": "transaction_rollback",
	"42": "syntax_error_or_access_rule_violation", "53": "insufficient_resources",
	"54": "program_limit_exceeded", "55": "object_not_in_prerequisite_state", "57": "operator_intervention",
	"58": "system_error", "P0": "plpgsql_error", "XX": "internal_error",
}

// pgError reads an ErrorResponse's SQLSTATE and message.
func pgError(b []byte) (code, msg string) {
	for len(b) > 1 {
		f := b[0]
		v, rest, ok := cstring(b[1:])
		if !ok {
			break
		}
		switch f {
		case 'C':
			code = v
		case 'M':
			msg = v
		}
		b = rest
	}
	return code, msg
}

// myErr reads an ERR packet.
func myErr(b []byte) (code, sqlstate, msg string) {
	if len(b) < 3 {
		return "", "", ""
	}
	code = strconv.Itoa(int(binary.LittleEndian.Uint16(b[1:])))
	b = b[3:]
	if len(b) >= 6 && b[0] == '#' {
		sqlstate = string(b[1:6])
		b = b[6:]
	}
	return code, sqlstate, string(b)
}

package dbwire

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigilhq/vigil/agent/redact"
)

func TestSafeError(t *testing.T) {
	r := testRedactor(t)
	for _, c := range []struct{ name, msg, want string }{
		{"invalid_text_representation", `invalid input syntax for type integer: "abc"`,
			`invalid_text_representation: invalid input syntax for type integer: "?"`},
		{"23000", "Duplicate entry 'alice@example.com' for key 'PRIMARY'", "23000: Duplicate entry '?' for key '?'"},
		{"", "value 12.5 out of range for row 7", "value ? out of range for row ?"},
		{"", "unclosed 'quote hides the rest", "unclosed '?"},
		{"", "line\nbreak\tand tab", "line break and tab"},
		{"undefined_table", "", "undefined_table"},
	} {
		if got := safeError(r, c.name, c.msg); got != c.want {
			t.Errorf("safeError(%q, %q) = %q, want %q", c.name, c.msg, got, c.want)
		}
	}
	long := safeError(r, "", "x"+strings.Repeat("é", maxErrorLen))
	if len(long) > maxErrorLen || !utf8.ValidString(long) {
		t.Errorf("long message: %d bytes, valid UTF-8 %v", len(long), utf8.ValidString(long))
	}
	off, err := redact.New(redact.Config{Key: []byte("k"), Disabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := safeError(off, "", "Duplicate entry 'x'"); got != "Duplicate entry 'x'" {
		t.Errorf("redaction off: %q", got)
	}
}

func TestPgConditionName(t *testing.T) {
	for code, want := range map[string]string{"42P01": "undefined_table", "42999": "syntax_error_or_access_rule_violation",
		"ZZ000": "", "": "", "4": ""} {
		if got := pgConditionName(code); got != want {
			t.Errorf("pgConditionName(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestPgError(t *testing.T) {
	body := pgErrorMessage("42P01", `relation "x" does not exist`)[5:]
	if code, msg := pgError(body); code != "42P01" || msg != `relation "x" does not exist` {
		t.Errorf("pgError: %q %q", code, msg)
	}
	if code, msg := pgError(body[:10]); code != "" || msg != "" {
		t.Errorf("cut ErrorResponse: %q %q", code, msg)
	}
}

func TestMyErr(t *testing.T) {
	body := myErrPacket(1, 1146, "42S02", "Table 'shop.x' doesn't exist")[4:]
	if code, state, msg := myErr(body); code != "1146" || state != "42S02" || msg != "Table 'shop.x' doesn't exist" {
		t.Errorf("myErr: %q %q %q", code, state, msg)
	}
	// Before protocol 4.1 there is no SQLSTATE.
	if code, state, msg := myErr([]byte{0xff, 0x15, 0x04, 'n', 'o'}); code != "1045" || state != "" || msg != "no" {
		t.Errorf("myErr without SQLSTATE: %q %q %q", code, state, msg)
	}
}

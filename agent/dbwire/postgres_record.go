package dbwire

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/vigilhq/vigil/agent/redact"
)

// finish reports a statement. tag is the CommandComplete tag, code and msg
// the error.
func (p *postgres) finish(ts time.Time, e *pgExec, tag []byte, code, msg string) {
	start := e.start
	if start.IsZero() {
		start = ts
	}
	rec := Record{Start: start, End: ts, Partial: e.partial || p.client.lost}
	r := p.t.cfg.Redactor
	db := &rec.DB
	db.Engine = EnginePostgres
	db.User = p.t.sess.User
	db.Database = p.t.sess.Database
	if e.sql != "" {
		res := r.Redact(redact.Postgres, e.sql)
		if e.portal != nil {
			for n, col := range res.Params {
				if v, ok := pgParamText(e.portal, n-1); ok {
					r.AddIdentifier(&res, col, v)
				}
			}
		}
		db.Statement, db.Fingerprint, db.Command = res.Statement, res.Fingerprint, res.Command
		db.Tables, db.Columns, db.Identifiers = res.Tables, res.Columns, res.Identifiers
		cols := e.columns
		if cols == nil && e.portal != nil {
			cols = e.portal.stmt.columns // described before it ran: no RowDescription follows
		}
		p.t.throughCursor(db, &res, code != "" || msg != "")
		// After the cursor's tables: a column of a table the rows come from.
		db.ResultColumns = resultColumns(cols, db.Statement, db.Tables, r.Disabled())
	} else {
		db.ResultColumns = resultColumns(e.columns, "", nil, r.Disabled())
	}
	db.Rows = e.rows
	if len(tag) > 0 {
		first, last, nf := tagFields(tag)
		if db.Command == "" && nf > 0 {
			db.Command = string(first)
		}
		if nf >= 2 {
			if n, err := strconv.ParseUint(string(last), 10, 64); err == nil {
				db.Rows = n
				rec.RowsFromServer = true
			}
		}
	}
	db.Bytes = e.bytes
	db.DurationMS = float64(ts.Sub(start).Microseconds()) / 1000
	if db.DurationMS < 0 {
		db.DurationMS = 0
	}
	if code != "" || msg != "" {
		db.ErrorCode = code
		db.Error = safeError(r, pgConditionName(code), msg)
	}
	p.t.emit(rec)
}

// tagFields returns the first and last of strings.Fields(tag) and how many
// there are, without allocating.
func tagFields(tag []byte) (first, last []byte, n int) {
	for f := range bytes.FieldsSeq(tag) {
		if n == 0 {
			first = f
		}
		last = f
		n++
	}
	return first, last, n
}

// pgParamText returns bound parameter i as text for identifier hashing.
func pgParamText(pt *pgPortal, i int) (string, bool) {
	if i < 0 || i >= len(pt.params) || pt.params[i] == nil {
		return "", false
	}
	v := pt.params[i]
	format := int16(0)
	switch {
	case len(pt.formats) == 1:
		format = pt.formats[0]
	case i < len(pt.formats):
		format = pt.formats[i]
	}
	if format == 0 {
		return string(v), true
	}
	var oid uint32
	if i < len(pt.stmt.oids) {
		oid = pt.stmt.oids[i]
	}
	switch oid {
	case 20, 21, 23, 0: // int8, int2, int4, unspecified
		switch len(v) {
		case 2:
			return strconv.FormatInt(int64(int16(binary.BigEndian.Uint16(v))), 10), true
		case 4:
			return strconv.FormatInt(int64(int32(binary.BigEndian.Uint32(v))), 10), true
		case 8:
			return strconv.FormatInt(int64(binary.BigEndian.Uint64(v)), 10), true
		}
	case 25, 1043, 1042, 19: // text, varchar, bpchar, name: binary is the text
		return string(v), true
	case 2950: // uuid
		if len(v) == 16 {
			h := hex.EncodeToString(v)
			return fmt.Sprintf("%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:]), true
		}
	}
	return hex.EncodeToString(v), true
}

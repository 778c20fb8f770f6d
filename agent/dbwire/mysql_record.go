package dbwire

import (
	"math"
	"strings"
	"time"

	"github.com/vigilhq/vigil/agent/redact"
)

// finishCmd reports the current statement of the command in progress and
// ends it.
func (m *mysql) finishCmd(ts time.Time, code, sqlstate, msg string, fromServer bool) {
	c := m.cmd
	m.cmd, m.state = nil, rsIdle
	if c == nil {
		return
	}
	sql := ""
	switch {
	case c.parts != nil:
		if c.idx < len(c.parts) {
			sql = c.parts[c.idx]
		}
	case c.stmt != nil:
		sql = c.stmt.sql
	case c.prepare != "":
		sql = c.prepare
	case c.cmd == myComStmtFetch:
	default:
		return
	}
	start := c.start
	if start.IsZero() {
		start = ts
	}
	rec := Record{Start: start, End: ts, Partial: c.partial || m.client.lost, RowsFromServer: fromServer}
	db := &rec.DB
	db.Engine = EngineMySQL
	db.User = m.t.sess.User
	db.Database = m.t.sess.Database
	r := m.t.cfg.Redactor
	if sql != "" {
		d := redact.MySQL
		if m.status&myServerNoBackslash != 0 {
			d = redact.MySQLNoBackslashEscapes
		}
		res := r.Redact(d, sql)
		for n, col := range res.Params {
			if n-1 < len(c.params) && c.hasVals[n-1] {
				r.AddIdentifier(&res, col, c.params[n-1])
			}
		}
		db.Statement, db.Fingerprint, db.Command = res.Statement, res.Fingerprint, res.Command
		db.Tables, db.Columns, db.Identifiers = res.Tables, res.Columns, res.Identifiers
		cols := c.columns
		if len(cols) == 0 && c.cmd == myComStmtFetch && c.stmt != nil {
			cols = c.stmt.columns // a cursor's rows come without column definitions
		}
		m.t.throughCursor(db, &res, code != "")
		// After the cursor's tables: a column of a table the rows come from.
		db.ResultColumns = resultColumns(cols, db.Statement, db.Tables, r.Disabled())
		if res.Command == "USE" && code == "" && !res.Unparsable {
			if f := strings.Fields(sql); len(f) == 2 {
				m.t.sess.Database = strings.Trim(f[1], "`;")
			}
		}
	}
	if sql == "" {
		db.ResultColumns = resultColumns(c.columns, "", nil, r.Disabled())
	}
	db.Rows = c.rows
	db.Bytes = c.bytes
	db.DurationMS = math.Max(0, float64(ts.Sub(start).Microseconds())/1000)
	if code != "" {
		db.ErrorCode = code
		db.Error = safeError(r, sqlstate, msg)
	}
	m.t.emit(rec)
}

package dbwire

import (
	"maps"
	"slices"

	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/event"
)

// Rows read through a cursor (PostgreSQL DECLARE then FETCH, as psql's
// FETCH_COUNT does; MySQL HANDLER ... OPEN then READ) are reads of the
// cursor's query: the tracker keeps what each open cursor's statement
// named, by the cursor's name, and gives it to the reads.

// cursor is what an open cursor's statement named.
type cursor struct {
	tables, columns []string
	identifiers     map[string][]string
}

// throughCursor notes what the statement db (redacted as res) does with a
// cursor, and gives a read through a known cursor the tables, columns and
// identifier hashes of the cursor's statement (the rows bring their own
// result columns). A failed statement opens and closes nothing.
func (t *Tracker) throughCursor(db *event.DB, res *redact.Result, failed bool) {
	switch res.CursorOp {
	case redact.CursorOpen:
		if failed {
			return
		}
		if t.cursors == nil {
			t.cursors = map[string]*cursor{}
		}
		if _, ok := t.cursors[res.Cursor]; !ok && len(t.cursors) >= t.cfg.MaxPending {
			evictOne(t.cursors, &t.stats.Evicted)
		}
		t.cursors[res.Cursor] = &cursor{tables: db.Tables, columns: db.Columns, identifiers: db.Identifiers}
	case redact.CursorRead:
		c := t.cursors[res.Cursor]
		if c == nil {
			return
		}
		db.Tables, db.Columns = slices.Clone(c.tables), slices.Clone(c.columns)
		if len(c.identifiers) > 0 {
			db.Identifiers = make(map[string][]string, len(c.identifiers))
			for k, v := range c.identifiers {
				db.Identifiers[k] = slices.Clone(v)
			}
		}
	case redact.CursorClose:
		if failed {
			return
		}
		if res.Cursor == "" {
			clear(t.cursors)
			return
		}
		delete(t.cursors, res.Cursor)
	}
}

// openCursors lists the open cursors' names, for tests.
func (t *Tracker) openCursors() []string { return slices.Sorted(maps.Keys(t.cursors)) }

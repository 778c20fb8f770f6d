package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
)

// The canonical encoding tells apart what a plain concatenation would
// not: a value's type, bytes moved between columns, and a key that reads
// like two.
func TestRowDigestTellsApart(t *testing.T) {
	tbl := chainTableOf("audit")
	base := []any{int64(1), "ana", "close", "al-1", ""}
	for name, other := range map[string][]any{
		"type":  {"1", "ana", "close", "al-1", ""},
		"moved": {int64(1), "anac", "lose", "al-1", ""},
		"null":  {int64(1), "ana", "close", "al-1", nil},
		"blob":  {int64(1), "ana", "close", []byte("al-1"), ""},
	} {
		if rowDigest(tbl, base) == rowDigest(tbl, other) {
			t.Errorf("%s: same digest for %v and %v", name, base, other)
		}
	}
	if rowKey("a b", "c") == rowKey("a", "b c") {
		t.Error("two keys read the same")
	}
	ta, tb := chainTableOf("triage"), chainTableOf("audit")
	if rowDigest(ta, []any{"a", "b", "c", "d", int64(1)}) == rowDigest(tb, []any{"a", "b", "c", "d", int64(1)}) {
		t.Error("the same values in two tables have the same digest")
	}
}

// BenchmarkPutEvent is the cost of storing an event in batches of 500 as
// ingest does: insert only (the statement PutEvent runs, without the
// chain) against PutEvent with its chain entry.
func BenchmarkPutEvent(b *testing.B) {
	for _, chained := range []bool{false, true} {
		b.Run(map[bool]string{false: "insert", true: "insert+chain"}[chained], func(b *testing.B) {
			st, err := Open(filepath.Join(b.TempDir(), "vigil.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			ev := newEvent(1)
			body, _ := json.Marshal(ev)
			b.ResetTimer()
			for i := 0; i < b.N; {
				tx, err := st.Begin(ctx)
				if err != nil {
					b.Fatal(err)
				}
				for j := 0; j < 500 && i < b.N; j, i = j+1, i+1 {
					ev.ID = fmt.Sprintf("b1-%d", i)
					if chained {
						_, err = tx.PutEvent(ev, body, t0)
					} else {
						_, err = tx.stmt(st.putEvent).ExecContext(ctx, ev.ID, ms(ev.Time), ms(t0), string(ev.Kind), ev.Site, ev.Host,
							ev.AgentID, ev.BootID, int64(i), ev.Person(), body, int64(0), int64(0), int64(0), nil)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

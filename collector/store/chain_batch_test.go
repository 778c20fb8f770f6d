package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

func chainEntries(t *testing.T, st *Store) (entries, batches int) {
	t.Helper()
	if err := st.db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE op = 'batch') FROM chain`).Scan(&entries, &batches); err != nil {
		t.Fatal(err)
	}
	return entries, batches
}

// A batch of inserted events is one chain entry, not one per event; an
// event updated in the same transaction gets its entry after the batch
// that holds its insert, so the update is the row's latest.
func TestBatchIsOneChainEntry(t *testing.T) {
	path := storeTarget(t)
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var evs []*event.Event
	for seq := range uint64(500) {
		evs = append(evs, newEvent(seq+1))
	}
	putEvents(t, st, t0, evs...)
	write(t, st, func(tx *Tx) error {
		ev := newEvent(501)
		body, _ := json.Marshal(ev)
		if _, err := tx.PutEvent(ev, body, t0); err != nil {
			return err
		}
		ev.Process.LoginUser = "ana"
		return tx.UpdateEvent(ev)
	})
	entries, batches := chainEntries(t, st)
	st.Close()
	if entries != 3 || batches != 2 {
		t.Fatalf("%d chain entries (%d batches) for two batches and an update, want 3 (2)", entries, batches)
	}
	r := verify(t, path, nil, nil)
	if !r.OK() || r.Rows != 501 || r.Entries != 502 {
		t.Fatalf("batched store: %d rows, %d entries, %v", r.Rows, r.Entries, r.Findings)
	}
	tamper(t, path, `UPDATE events SET person = 'bob' WHERE n = 501`)
	if r := verify(t, path, nil, nil); r.OK() || r.Findings[0].Kind != FindEdited || r.Findings[0].Row != "501" {
		t.Fatalf("an edit of a row updated after its batch: %v", r.Findings)
	}
}

// A store written before batch entries (schema version 6, an entry per
// row, the chain_row index) verifies as it is, is migrated on open, and
// its old entries still hold its rows beside the new batches: an edit of
// an old row is still named.
func TestStoreWithRowEntriesVerifiesAfterUpgrade(t *testing.T) {
	path := storeTarget(t)
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	clock := &chainClock{at: t0}
	st.now = clock.now
	write(t, st, func(tx *Tx) error {
		for seq := range uint64(3) {
			ev := newEvent(seq + 1)
			body, _ := json.Marshal(ev)
			vals := []any{ev.ID, ms(ev.Time), ms(t0), string(ev.Kind), ev.Site, ev.Host, ev.AgentID, ev.BootID, int64(ev.Seq), ev.Person(), body}
			res, err := tx.stmt(st.putEvent).ExecContext(tx.ctx, append(vals, eventMeasures(ev).values()...)...)
			if err != nil {
				return err
			}
			n, _ := res.LastInsertId()
			// What the chain wrote for each event before batches.
			if err := tx.ch.put("events", rowKey(n), OpInsert, func() []byte { d := rowDigest(chainTableOf("events"), vals); return d[:] }()); err != nil {
				return err
			}
		}
		return nil
	})
	st.Close()
	tamper(t, path, `ALTER TABLE chain DROP COLUMN rows; CREATE INDEX chain_row ON chain(tbl, row);
		DROP INDEX events_site_measures; CREATE INDEX events_site_time ON events(site, time); DROP INDEX alerts_time;
		DROP INDEX events_person_measures; CREATE INDEX events_person_time ON events(person, time);
		ALTER TABLE events DROP COLUMN db_rows; ALTER TABLE events DROP COLUMN upload_bytes;
		ALTER TABLE events DROP COLUMN export_bytes; ALTER TABLE events DROP COLUMN idents; PRAGMA user_version = 6`)
	if r := verify(t, path, nil, nil); !r.OK() || r.Rows != 3 || r.Entries != 3 {
		t.Fatalf("version 6 store: %d rows, %d entries, %v", r.Rows, r.Entries, r.Findings)
	}

	st, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	clock.at = t0.Add(2 * time.Hour)
	st.now = clock.now
	putEvents(t, st, clock.at, newEvent(4), newEvent(5))
	write(t, st, func(tx *Tx) error {
		ev := newEvent(2)
		ev.Process.LoginUser = "ana"
		return tx.UpdateEvent(ev)
	})
	st.Close()
	if v := userVersion(t, path); v != SchemaVersion {
		t.Fatalf("user_version %d after open, want %d", v, SchemaVersion)
	}
	if r := verify(t, path, nil, nil); !r.OK() || r.Rows != 5 {
		t.Fatalf("upgraded store: %d rows, %v", r.Rows, r.Findings)
	}
	tamper(t, path, `UPDATE events SET person = 'bob' WHERE n = 3`)
	if r := verify(t, path, nil, nil); r.OK() || r.Findings[0].Kind != FindEdited || r.Findings[0].Row != "3" {
		t.Fatalf("an edit of a row chained by a row entry: %v", r.Findings)
	}
	tamper(t, path, `UPDATE events SET person = 'mona' WHERE n = 3`)

	// A prune cuts the segment of row entries and deletes their events
	// (the updated one's entry is past the segment: it gets a delete
	// entry); the batch's events stay and verify.
	st, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	clock.at = t0.Add(3 * time.Hour)
	st.now = clock.now
	events, _, err := st.Prune(context.Background(), clock.at, retention)
	st.Close()
	if err != nil || events != 3 {
		t.Fatalf("prune of the old events: %d, %v", events, err)
	}
	if r := verify(t, path, nil, nil); !r.OK() || r.Rows != 2 {
		t.Fatalf("pruned store: %d rows, %v", r.Rows, r.Findings)
	}
	tamper(t, path, `UPDATE events SET person = 'bob' WHERE n = 5`)
	if r := verify(t, path, nil, nil); r.OK() || r.Findings[0].Kind != FindEdited || r.Findings[0].Row != "5" {
		t.Fatalf("an edit of a batched row after the prune: %v", r.Findings)
	}
}

// A prune does not cut a segment whose batch entry's list was edited to
// hide a row; untouched, a segment of batches is cut and what outlives it
// is carried.
func TestPruneChecksBatchEntries(t *testing.T) {
	for _, tampered := range []bool{false, true} {
		st := openStore(t)
		clock := &chainClock{at: t0}
		st.now = clock.now
		putEvents(t, st, t0, newEvent(1), newEvent(2), newEvent(3))
		putAlerts(t, st, t0, newAlert("al-1", "csv_export", event.SeverityHigh, event.MakeID("b1", 2)))
		if tampered {
			blob := "BLOB"
			if onPostgres(t) {
				blob = "BYTEA"
			}
			if _, err := st.db.Exec(`DELETE FROM events WHERE n = 2;
				UPDATE chain SET rows = CAST(substr(rows, 1, 66) || substr(rows, 133) AS ` + blob + `) WHERE op = 'batch'`); err != nil {
				t.Fatal(err)
			}
		}
		clock.at = t0.Add(3 * time.Hour)
		events, _, err := st.Prune(context.Background(), clock.at, retention)
		if tampered {
			if err == nil {
				t.Fatal("a prune cut a segment whose batch entry was edited")
			}
			continue
		}
		if err != nil || events != 2 {
			t.Fatalf("prune: %d events, %v", events, err)
		}
		var carried int
		if err := st.db.QueryRow(`SELECT count(*) FROM chain WHERE op = ? AND tbl = 'events' AND row = '2'`, OpCarry).Scan(&carried); err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		if carried != 1 {
			t.Fatalf("the cited event's entry carried %d times, want once", carried)
		}
	}
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// t0 is the tests' clock; only the chain's entry times (Store.now) read
// the real one.
var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// openStore opens a fresh store in the test's temporary directory.
func openStore(t *testing.T) *Store {
	t.Helper()
	st, err := Open(storeTarget(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// write runs f in one transaction and commits it.
func write(t *testing.T, st *Store, f func(tx *Tx) error) {
	t.Helper()
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// newEvent is a file.write of agent ag-1 at leeds, boot b1, by mona.
func newEvent(seq uint64) *event.Event {
	return &event.Event{ID: event.MakeID("b1", seq), Time: t0.Add(time.Duration(seq) * time.Second), Kind: event.KindFileWrite,
		Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1", Seq: seq,
		Process: &event.Process{PID: 10, User: "mona", LoginUser: "mona", LoginUID: 1013},
		File:    &event.File{Path: "/tmp/x.csv", Bytes: 100}}
}

// newAlert is a host alert of rule citing evidence.
func newAlert(id, rule, severity string, evidence ...string) *event.Event {
	return &event.Event{ID: id, Time: t0, Kind: event.KindAlert, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1",
		Process: &event.Process{PID: 10, User: "mona"},
		Alert:   &event.Alert{Rule: rule, Severity: severity, Summary: rule + " fired", Scope: "host", Evidence: evidence}}
}

// putEvents stores events received at received.
func putEvents(t *testing.T, st *Store, received time.Time, evs ...*event.Event) {
	t.Helper()
	write(t, st, func(tx *Tx) error {
		for _, ev := range evs {
			body, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			if _, err := tx.PutEvent(ev, body, received); err != nil {
				return err
			}
		}
		return nil
	})
}

// putAlerts stores alerts received at received.
func putAlerts(t *testing.T, st *Store, received time.Time, als ...*event.Event) {
	t.Helper()
	write(t, st, func(tx *Tx) error {
		for _, al := range als {
			if _, err := tx.PutAlert(al, received); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestOpenCreatesSchema(t *testing.T) {
	st := openStore(t)
	rows, err := st.db.Query(`SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var typ, name string
		if err := rows.Scan(&typ, &name); err != nil {
			t.Fatal(err)
		}
		got = append(got, typ+" "+name)
	}
	want := []string{"table agents", "table alert_evidence", "table alerts", "index alerts_received", "index alerts_time", "table audit",
		"index audit_at", "index audit_target", "table chain", "table checkpoints", "table events",
		"index events_person_measures", "index events_received", "index events_site_measures", "index evidence_event", "table loss", "index loss_gap",
		"table outputs", "table seqs", "index seqs_boot", "table sites", "table triage", "index triage_status"}
	if !slices.Equal(got, want) {
		t.Fatalf("schema objects\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Every connection of the pool runs with the settings Open asks for: WAL
// lets the API read while a batch writes, and the busy timeout makes a
// second writer wait instead of failing.
func TestOpenSettingsOnEveryConnection(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	// Hold connections at once so the pool has to open more than one.
	var conns []*sql.Conn
	for i := range 3 {
		c, err := st.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var mode string
		var busy, fk, sync int
		if err := c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		// FULL (2): a committed batch, whose messages JetStream then
		// forgets, survives a power loss.
		if err := c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if sync != 2 {
			t.Errorf("connection %d: synchronous %d, want 2 (FULL)", i, sync)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || busy != 10000 || fk != 0 {
			t.Errorf("connection %d: journal_mode %s, busy_timeout %d, foreign_keys %d; want wal, 10000, 0", i, mode, busy, fk)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

// Opening an existing store keeps what it holds: the schema only creates
// what is missing.
func TestReopenKeepsData(t *testing.T) {
	path := storeTarget(t)
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ev := newEvent(1)
	putEvents(t, st, t0, ev)
	putAlerts(t, st, t0, newAlert("al-1", "dump", event.SeverityHigh, ev.ID))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = Open(path)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer st.Close()
	d, err := st.AlertByID(context.Background(), "al-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Evidence) != 1 || d.Evidence[0].ID != ev.ID {
		t.Fatalf("after reopening, evidence %v, want %s", d.Evidence, ev.ID)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "not-a-db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("this is not SQLite\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"missing directory": filepath.Join(dir, "absent", "vigil.db"),
		"not a database":    notDB,
	} {
		t.Run(name, func(t *testing.T) {
			st, err := Open(path)
			if err == nil {
				st.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
		})
	}
}

package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// An alert stored ahead of its evidence gets its OCSF finding when the
// evidence arrives; one whose evidence never comes goes out after the wait,
// naming what is missing.
func TestOCSFFindingWaitsForEvidence(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	mk := func(seq uint64, kind event.Kind) *event.Event {
		return &event.Event{ID: event.MakeID("b1", seq), Time: t0, Kind: kind, Site: "leeds", Host: "ws", AgentID: "ag-1",
			BootID: "b1", Seq: seq, Process: &event.Process{PID: 1, User: "mona"}}
	}
	q := mk(1, event.KindDBQuery)
	q.DB = &event.DB{Engine: "postgresql", Statement: "SELECT 1"}
	late := mk(3, event.KindAlert)
	late.Alert = &event.Alert{Rule: "dump", Severity: "high", Evidence: []string{q.ID}}
	lost := mk(4, event.KindAlert)
	lost.Alert = &event.Alert{Rule: "dump", Severity: "high", Evidence: []string{"b1-99"}}
	put := func(f func(tx *store.Tx) error) {
		t.Helper()
		tx, err := st.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := f(tx); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	put(func(tx *store.Tx) error {
		for _, al := range []*event.Event{late, lost} {
			if _, err := tx.PutAlert(al, t0); err != nil {
				return err
			}
		}
		return nil
	})
	var out bytes.Buffer
	w := &ocsfWriter{st: st, out: &out, wait: 30 * time.Second}
	w.add(late.ID, t0)
	w.add(lost.ID, t0)
	if out.Len() != 0 {
		t.Fatalf("findings written before their evidence came: %s", out.String())
	}
	body, _ := json.Marshal(q)
	put(func(tx *store.Tx) error { _, err := tx.PutEvent(q, body, t0); return err })
	w.flush(t0.Add(time.Second), false)
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if len(lines) != 1 || !bytes.Contains(lines[0], []byte(`"evidence_ids":["b1-1"]`)) || bytes.Contains(lines[0], []byte("missing_evidence\":[")) {
		t.Fatalf("after the evidence came, findings %s; want the first alert's, with nothing missing", out.String())
	}
	w.flush(t0.Add(29*time.Second), false)
	if n := bytes.Count(out.Bytes(), []byte("\n")); n != 1 {
		t.Fatalf("%d findings before the wait ended, want 1", n)
	}
	w.flush(t0.Add(30*time.Second), false)
	if n := bytes.Count(out.Bytes(), []byte("\n")); n != 2 || !bytes.Contains(out.Bytes(), []byte(`"missing_evidence":["b1-99"]`)) {
		t.Fatalf("after the wait, findings %s; want the second alert's naming b1-99 missing", out.String())
	}
}

package store

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

var retention = Retention{Events: time.Hour, Alerts: 24 * time.Hour}

// Prune keeps events for Events and alerts, with the events they cite and
// loss records, for Alerts, counting from when each was received; what
// sits exactly at a cut stays.
func TestPrune(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	now := t0.Add(48 * time.Hour)
	old, citedByKept, citedByOld, atCut, recent := newEvent(1), newEvent(2), newEvent(3), newEvent(4), newEvent(5)
	putEvents(t, st, t0, old, citedByKept, citedByOld)
	putEvents(t, st, now.Add(-retention.Events), atCut)
	putEvents(t, st, now.Add(-time.Minute), recent)
	putAlerts(t, st, t0, newAlert("al-old", "r", event.SeverityHigh, citedByOld.ID))
	// The alert's own time is old; it was received recently.
	putAlerts(t, st, now.Add(-time.Hour), newAlert("al-kept", "r", event.SeverityHigh, citedByKept.ID))
	putAlerts(t, st, now.Add(-retention.Alerts), newAlert("al-at-cut", "r", event.SeverityLow))
	write(t, st, func(tx *Tx) error {
		for _, at := range []time.Time{t0, now.Add(-time.Hour)} {
			if err := tx.AddLoss(Loss{Time: at, AgentID: "ag-1", BootID: "b1", Reason: "ringbuf_full", Count: 1}); err != nil {
				return err
			}
		}
		return tx.SeenAgent(old, t0)
	})
	for _, id := range []string{"al-old", "al-kept"} {
		if _, err := st.Triage(ctx, id, "ana", TriageAction{Action: ActAcknowledge}, t0); err != nil {
			t.Fatal(err)
		}
	}

	events, alerts, err := st.Prune(ctx, now, retention)
	if err != nil {
		t.Fatal(err)
	}
	var triaged int
	if err := st.db.QueryRow(`SELECT count(*) FROM triage`).Scan(&triaged); err != nil || triaged != 1 {
		t.Errorf("%d triage records after pruning one of two triaged alerts (%v), want 1", triaged, err)
	}
	if events != 2 || alerts != 1 {
		t.Errorf("pruned %d events and %d alerts, want 2 and 1", events, alerts)
	}
	ids, err := st.EventIDs(ctx, "ag-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*event.Event{citedByKept, atCut, recent} {
		if ids[e.ID] != 1 {
			t.Errorf("event %s pruned", e.ID)
		}
	}
	if len(ids) != 3 {
		t.Errorf("events left %v, want %s, %s and %s", ids, citedByKept.ID, atCut.ID, recent.ID)
	}
	list, _ := st.Alerts(ctx, AlertFilter{})
	var left []string
	for _, a := range list {
		left = append(left, a.Event.ID)
	}
	if strings.Join(left, " ") != "al-at-cut al-kept" {
		t.Errorf("alerts left %v, want al-at-cut al-kept", left)
	}
	var links int
	st.db.QueryRow(`SELECT count(*) FROM alert_evidence WHERE alert_id = 'al-old'`).Scan(&links)
	if links != 0 {
		t.Errorf("%d evidence links of the pruned alert left", links)
	}
	if losses, _ := st.Losses(ctx, "", 0); len(losses) != 1 || !losses[0].Time.Equal(now.Add(-time.Hour)) {
		t.Errorf("loss left %+v, want the recent record only", losses)
	}
	if agents, _ := st.Agents(ctx); len(agents) != 1 {
		t.Errorf("agents %+v after pruning, want ag-1 kept", agents)
	}

	events, alerts, err = st.Prune(ctx, now, retention)
	if err != nil || events != 0 || alerts != 0 {
		t.Errorf("pruning again: %d events, %d alerts, %v; want nothing", events, alerts, err)
	}
}

func TestPruneEmptyStore(t *testing.T) {
	st := openStore(t)
	events, alerts, err := st.Prune(context.Background(), t0, retention)
	if err != nil || events != 0 || alerts != 0 {
		t.Fatalf("pruned %d events, %d alerts, %v; want nothing", events, alerts, err)
	}
}

// A gap's record can be pruned before its late event comes: the event then
// fills nothing, and the agent's highest seq, which is never pruned, keeps
// it from looking like a new gap.
func TestLateEventAfterPruning(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	write(t, st, func(tx *Tx) error {
		for _, seq := range []uint64{1, 5} {
			if _, err := tx.TrackSeq(newEvent(seq), t0); err != nil {
				return err
			}
		}
		return nil
	})
	if got := lossRows(t, st); got != "b1 seq_gap 2-4" {
		t.Fatalf("before pruning, loss rows %s", got)
	}
	if _, _, err := st.Prune(ctx, t0.Add(48*time.Hour), retention); err != nil {
		t.Fatal(err)
	}
	var gaps []*Loss
	write(t, st, func(tx *Tx) error {
		for _, seq := range []uint64{3, 6} {
			gap, err := tx.TrackSeq(newEvent(seq), t0)
			if err != nil {
				return err
			}
			if gap != nil {
				gaps = append(gaps, gap)
			}
		}
		return nil
	})
	if got := lossRows(t, st); got != "" || len(gaps) != 0 {
		t.Fatalf("after pruning, a late and a next event left loss rows %q and gaps %v; want none", got, gaps)
	}
}

// The events table is the dedupe set, so dedupe reaches back as far as
// events are kept: a delivery of a pruned event stores it again.
func TestDedupeReachesBackToRetention(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ev := newEvent(1)
	putEvents(t, st, t0, ev)
	if _, _, err := st.Prune(ctx, t0.Add(2*time.Hour), retention); err != nil {
		t.Fatal(err)
	}
	var inserted bool
	write(t, st, func(tx *Tx) error {
		body, _ := json.Marshal(ev)
		var err error
		inserted, err = tx.PutEvent(ev, body, t0.Add(2*time.Hour))
		return err
	})
	if !inserted {
		t.Fatal("a pruned event delivered again was taken for a duplicate")
	}
}

// The audit log is kept as long as alerts, counting from each record's
// time: the record of who read an alert's evidence outlives the alert,
// which was received before it was read; older records go.
func TestPruneAudit(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	now := t0.Add(48 * time.Hour)
	putAlerts(t, st, now.Add(-retention.Alerts-time.Hour), newAlert("al-read", "r", event.SeverityHigh))
	for _, e := range []AuditEntry{
		{At: t0, Actor: "ana", Action: "login", Target: "console"},
		{At: now.Add(-retention.Alerts - time.Minute), Actor: "ana", Action: "view_evidence", Target: "al-read"},
		{At: now.Add(-retention.Alerts), Actor: "ana", Action: "login", Target: "console"},
		{At: now.Add(-time.Minute), Actor: "ben", Action: "view_evidence", Target: "al-read"},
	} {
		if err := st.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.Prune(ctx, now, retention); err != nil {
		t.Fatal(err)
	}
	log, err := st.AuditLog(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		got = append(got, e.Actor+" "+e.Action)
	}
	if strings.Join(got, "|") != "ben view_evidence|ana login" {
		t.Errorf("the audit log after pruning: %q, want ben's read and ana's login at the cut", got)
	}
}

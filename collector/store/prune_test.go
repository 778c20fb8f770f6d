package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
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

// chainClock stamps chain entries with a test's clock.
type chainClock struct{ at time.Time }

func (c *chainClock) now() time.Time { return c.at }

// prunedStore builds a store whose first hour of writes a prune cuts as a
// segment: events not cited go, the cited one, the alert, its evidence,
// triage, audit and loss outlive it. It returns the closed store's path
// and the base checkpoint's public key.
func prunedStore(t *testing.T, beforePrune string) (string, ed25519.PublicKey) {
	return prunedStoreSigned(t, beforePrune, true)
}

func prunedStoreSigned(t *testing.T, beforePrune string, signed bool) (string, ed25519.PublicKey) {
	t.Helper()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	path := storeTarget(t)
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := &chainClock{at: t0}
	st.now = clock.now
	if signed {
		st.SetSigner(func(msg []byte) []byte { return ed25519.Sign(key, msg) })
	}
	ctx := context.Background()
	evs := []*event.Event{newEvent(1), newEvent(2), newEvent(3), newEvent(4)}
	putEvents(t, st, t0, evs...)
	putAlerts(t, st, t0, newAlert("al-1", "csv_export", event.SeverityHigh, evs[1].ID))
	write(t, st, func(tx *Tx) error {
		return tx.AddLoss(Loss{Time: t0, AgentID: "ag-1", BootID: "b1", Reason: "ringbuf_full", Count: 1})
	})
	if _, err := st.Triage(ctx, "al-1", "ana", TriageAction{Action: ActAcknowledge}, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.Audit(ctx, AuditEntry{At: t0, Actor: "bob", Action: "view_evidence", Target: "al-1"}); err != nil {
		t.Fatal(err)
	}
	clock.at = t0.Add(2 * time.Hour)
	later := []*event.Event{newEvent(5), newEvent(6)}
	putEvents(t, st, clock.at, later...)
	write(t, st, func(tx *Tx) error { return tx.UpdateEvent(later[0]) })
	if beforePrune != "" {
		if _, err := st.db.Exec(beforePrune); err != nil {
			t.Fatal(err)
		}
	}
	clock.at = t0.Add(3 * time.Hour)
	events, alerts, err := st.Prune(ctx, clock.at, retention)
	if err != nil {
		t.Fatal(err)
	}
	if events != 3 || alerts != 0 {
		t.Fatalf("pruned %d events and %d alerts, want 3 and 0", events, alerts)
	}
	return path, pub
}

// A pruned store verifies from the signed base the prune left, and what
// outlived the cut segment is still checked.
func TestPrunedStoreVerifies(t *testing.T) {
	path, pub := prunedStore(t, "")
	r := verify(t, path, nil, pub)
	if !r.OK() {
		t.Fatalf("pruned store: %v", r.Findings)
	}
	// The cited event, alert, evidence link, loss, triage and two audit
	// rows (the triage's and the read) outlived the segment; two later
	// events stay.
	if r.BaseSeq == 0 || r.Rows != 9 {
		t.Fatalf("base seq %d, %d rows; want a base and 9 rows", r.BaseSeq, r.Rows)
	}
	var n int
	db, _, err := openDB(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT count(*) FROM chain WHERE seq <= ?`, r.BaseSeq).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d chain entries at or before the base (%v), want the segment cut", n, err)
	}
	tamper(t, path, `UPDATE alerts SET severity = 'low'`)
	if r := verify(t, path, nil, pub); r.OK() || r.Findings[0].Kind != FindEdited || r.Findings[0].Table != "alerts" {
		t.Fatalf("an edit of a row carried past the segment: %v", r.Findings)
	}
}

// An edit made before a prune still shows after it: the carried entry
// keeps the digest the row was chained with.
func TestPruneCarriesEditsOfLiveRows(t *testing.T) {
	path, pub := prunedStore(t, `UPDATE alerts SET summary = 'nothing to see'`)
	if r := verify(t, path, nil, pub); r.OK() || r.Findings[0].Kind != FindEdited || r.Findings[0].Table != "alerts" {
		t.Fatalf("an edit before the prune: %v", r.Findings)
	}
}

// A segment whose chain is broken is not cut, so the prune cannot bury
// what changed in it.
func TestPruneRefusesABrokenSegment(t *testing.T) {
	st := openStore(t)
	clock := &chainClock{at: t0}
	st.now = clock.now
	putEvents(t, st, t0, newEvent(1))
	putEvents(t, st, t0, newEvent(2))
	putEvents(t, st, t0, newEvent(3))
	if _, err := st.db.Exec(`DELETE FROM events WHERE n = 2; DELETE FROM chain WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	clock.at = t0.Add(3 * time.Hour)
	_, _, err := st.Prune(context.Background(), clock.at, retention)
	if err == nil || !strings.Contains(err.Error(), "seq 2") {
		t.Fatalf("prune of a broken segment: %v", err)
	}
}

// Making a row look old enough to prune (editing its received time) does
// not get it deleted under cover of retention: the prune stops and names
// it.
func TestPruneRefusesAnEditedRow(t *testing.T) {
	st := openStore(t)
	clock := &chainClock{at: t0}
	st.now = clock.now
	now := t0.Add(48 * time.Hour)
	putEvents(t, st, now, newEvent(1), newEvent(2))
	if _, err := st.db.Exec(`UPDATE events SET received = ? WHERE n = 2`, ms(t0)); err != nil {
		t.Fatal(err)
	}
	clock.at = now
	_, _, err := st.Prune(context.Background(), now, retention)
	if err == nil || !strings.Contains(err.Error(), "events row 2 differs") {
		t.Fatalf("prune of an edited row: %v", err)
	}
	if n, _ := st.CountEvents(context.Background()); n != 2 {
		t.Fatalf("%d events left, want both: the prune must not delete the edited one", n)
	}
}

// A prune with no signer still cuts and leaves a base, which verifies
// without a public key and is named unsigned with one.
func TestUnsignedBase(t *testing.T) {
	path, pub := prunedStoreSigned(t, "", false)
	if r := verify(t, path, nil, nil); !r.OK() || r.BaseSeq == 0 {
		t.Fatalf("base %d: %v", r.BaseSeq, r.Findings)
	}
	if r := verify(t, path, nil, pub); r.OK() || r.Findings[0].Kind != FindSignature {
		t.Fatalf("an unsigned base checked with a key: %v", r.Findings)
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

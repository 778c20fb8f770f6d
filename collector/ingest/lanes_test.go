package ingest

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/collector/metrics"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// laneRig is an Ingest on a real embedded JetStream with both consumers.
type laneRig struct {
	bus *bus.Bus
	st  *store.Store
	m   *metrics.Metrics
	in  *Ingest
}

func newLaneRig(t *testing.T) *laneRig {
	t.Helper()
	b := startBus(t)
	t.Cleanup(b.Close)
	st, err := store.Open(filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := metrics.New(nil)
	// Every batch gets its own millisecond, so received times give store order.
	var clock atomic.Int64
	in := New(Options{Store: st, Metrics: m, Liveness: liveness.New(liveness.Options{}),
		Now: func() time.Time { return t0.Add(time.Duration(clock.Add(1)) * time.Millisecond) }})
	in.retry = 20 * time.Millisecond
	return &laneRig{bus: b, st: st, m: m, in: in}
}

// run runs the ingest until the test ends.
func (r *laneRig) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runIngest(ctx, r.in, r.bus) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func (r *laneRig) publish(t *testing.T, subject string, data []byte) {
	t.Helper()
	if _, err := r.bus.JS.Publish(context.Background(), subject, data); err != nil {
		t.Fatal(err)
	}
}

func (r *laneRig) publishEvent(t *testing.T, e *event.Event) {
	t.Helper()
	data, err := event.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.bus.JS.Publish(context.Background(), event.Subject(e.Site, e.AgentID, event.ClassOf(e.Kind)), data,
		jetstream.WithMsgID(e.ID)); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits for a signal, failing the test after a generous deadline.
func waitFor(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(2 * time.Minute):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// once returns a channel and a func closing it the first time cond holds.
func once(cond func() bool) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	var o sync.Once
	return ch, func() {
		if cond() {
			o.Do(func() { close(ch) })
		}
	}
}

// An alert published behind thousands of queued events is stored while most
// of them still wait, its evidence resolves once they arrive, and storing
// it early records no gap in its agent's seq.
func TestAlertOvertakesEventBacklog(t *testing.T) {
	r := newLaneRig(t)
	const backlog, after = 8000, 200
	seqs := map[string]uint64{}
	publishRealistic(t, r.bus.JS, backlog)
	agent := "ag-leeds-1" // realistic's agent 0: events 0, 4, 8, ...
	first, last := event.MakeID("b-"+agent, 1), event.MakeID("b-"+agent, backlog/4)
	for i := range backlog {
		realistic(i, seqs) // number as publishRealistic did
	}
	seqs[agent]++
	al := &event.Event{ID: event.MakeID("b-"+agent, seqs[agent]), Time: t0.Add(time.Hour), Kind: event.KindAlert,
		Site: "leeds", Host: "ws-" + agent, AgentID: agent, BootID: "b-" + agent, Seq: seqs[agent],
		Process: &event.Process{PID: 4000, User: "mona", LoginUser: "mona", LoginUID: 1013},
		Alert:   &event.Alert{Rule: "bulk_export", Severity: "high", Summary: "export", Evidence: []string{first, last}, Scope: "host"}}
	r.publishEvent(t, al)
	r.publishEvent(t, &event.Event{ID: "b-" + agent + "-hb-1", Time: t0.Add(time.Hour), Kind: event.KindHeartbeat, Site: "leeds",
		Host: "ws-" + agent, AgentID: agent, BootID: "b-" + agent, Heartbeat: &event.Heartbeat{IntervalS: 10, Sensors: []string{"file"}}})
	for i := backlog; i < backlog+after; i++ {
		r.publishEvent(t, realistic(i, seqs))
	}
	total := backlog + after + 1 // the alert is stored among the events too

	stored := func() int { return count(r.m, "stored") }
	type seen struct {
		eventsBefore int
		detail       *store.AlertDetail
		err          error
	}
	alertSeen := make(chan seen, 1)
	r.in.o.OnAlert = func(got *event.Event) {
		// Called after the alert's batch commits, before any other batch.
		d, err := r.st.AlertByID(context.Background(), got.ID)
		alertSeen <- seen{eventsBefore: stored() - 1, detail: d, err: err}
	}
	drained, check := once(func() bool { return stored() == total })
	r.in.afterCommit = func(lane, int) error { check(); return nil }
	r.run(t)

	var s seen
	select {
	case s = <-alertSeen:
	case <-time.After(2 * time.Minute):
		t.Fatal("the alert was not stored")
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	t.Logf("the alert was stored after %d of %d queued events", s.eventsBefore, backlog)
	if s.eventsBefore >= backlog/2 {
		t.Errorf("the alert was stored after %d of the %d queued events, want it ahead of most", s.eventsBefore, backlog)
	}
	if !slices.Contains(s.detail.Missing, last) {
		t.Errorf("when stored, the alert's missing evidence was %v, want it to hold the not yet stored %s", s.detail.Missing, last)
	}
	waitFor(t, "the backlog to drain", drained)
	d, err := r.st.AlertByID(context.Background(), al.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Evidence) != 2 || len(d.Missing) != 0 {
		t.Errorf("after the backlog drained, evidence %d events, missing %v; want both resolved", len(d.Evidence), d.Missing)
	}
	if losses, _ := r.st.Losses(context.Background(), "", 0); len(losses) != 0 {
		t.Errorf("loss recorded %+v, want none: the alert's seq was numbered among the events", losses)
	}
	if n := count(r.m, "heartbeat"); n != 1 {
		t.Errorf("heartbeat judged %d times, want once", n)
	}
	if n := count(r.m, "duplicate"); n != 0 {
		t.Errorf("%d duplicates counted, want 0", n)
	}
}

// With two consumers reading overlapping subjects, each bad message is
// counted once and skipped.
func TestLanesCountBadMessagesOnce(t *testing.T) {
	r := newLaneRig(t)
	agentSubj := func(class string) string { return event.Subject("leeds", "ag-1", class) }
	good := ev("leeds", "ag-1", 1, event.KindFileWrite)
	al := ev("leeds", "ag-1", 2, event.KindAlert)
	al.Alert = &event.Alert{Rule: "r", Severity: "low", Evidence: []string{good.ID}}
	spoof := ev("leeds", "ag-2", 3, event.KindAlert)
	spoof.Alert = al.Alert
	big := ev("leeds", "ag-1", 4, event.KindAlert)
	big.Alert = &event.Alert{Rule: "r", Severity: "low", Summary: strings.Repeat("a", event.MaxWireSize)}
	msgs := []Msg{
		{Subject: agentSubj(event.ClassAlerts), Data: []byte(`{"id":`)},
		{Subject: agentSubj(event.ClassEvents), Data: []byte(`{"id":`)},
		{Subject: agentSubj(event.ClassHeartbeat), Data: []byte("\xff\xfe")},
		{Subject: agentSubj(event.ClassAlerts), Data: msg(good).Data}, // an event on the alerts subject
		{Subject: agentSubj(event.ClassEvents), Data: msg(al).Data},   // an alert on the events subject
		{Subject: agentSubj("bogus"), Data: msg(good).Data},
		{Subject: agentSubj(event.ClassAlerts), Data: msg(spoof).Data},
		{Subject: agentSubj(event.ClassAlerts), Data: msg(big).Data},
		msg(good), msg(al),
	}
	priority := 0
	for _, m := range msgs {
		if strings.HasSuffix(m.Subject, event.ClassAlerts) || strings.HasSuffix(m.Subject, event.ClassHeartbeat) {
			priority++
		}
	}
	var seenEvents, seenPriority atomic.Int64
	done, check := once(func() bool { return seenEvents.Load() == int64(len(msgs)) && seenPriority.Load() == int64(priority) })
	r.in.afterCommit = func(l lane, n int) error {
		if l == laneEvents {
			seenEvents.Add(int64(n))
		} else {
			seenPriority.Add(int64(n))
		}
		check()
		return nil
	}
	for _, m := range msgs {
		r.publish(t, m.Subject, m.Data)
	}
	r.run(t)
	waitFor(t, "both lanes to handle every message", done)
	for res, want := range map[string]int{"stored": 2, "duplicate": 0, "malformed": 6, "oversized": 1, "rejected": 1} {
		if got := count(r.m, res); got != want {
			t.Errorf("%s: %d, want %d", res, got, want)
		}
	}
	if n, _ := r.st.CountEvents(context.Background()); n != 2 {
		t.Errorf("%d events stored, want 2", n)
	}
}

var errInjected = errors.New("injected store failure")

// Batches that fail before their commit, or after it but before their
// acks (a crash), are redelivered and stored once; seq gaps opened by the
// later batches that went ahead close when the failed ones come back.
func TestFailedBatchesRedeliverAndStoreOnce(t *testing.T) {
	r := newLaneRig(t)
	const n = 3000
	publishRealistic(t, r.bus.JS, n)
	seqs := map[string]uint64{}
	for i := range n {
		realistic(i, seqs)
	}
	al := &event.Event{ID: event.MakeID("b-ag-leeds-1", seqs["ag-leeds-1"]+1), Time: t0, Kind: event.KindAlert, Site: "leeds", Host: "ws",
		AgentID: "ag-leeds-1", BootID: "b-ag-leeds-1", Seq: seqs["ag-leeds-1"] + 1,
		Alert: &event.Alert{Rule: "r", Severity: "high", Evidence: []string{}}}
	r.publishEvent(t, al)
	total := n + 1

	var mu sync.Mutex
	var eventBatches, priorityBatches int
	var committedThenFailed int
	done, check := once(func() bool {
		return count(r.m, "stored") == total && count(r.m, "duplicate") == committedThenFailed
	})
	r.in.beforeCommit = func(l lane, msgs int) error {
		mu.Lock()
		defer mu.Unlock()
		if l == lanePriority {
			priorityBatches++
			if priorityBatches == 1 {
				return errInjected
			}
			return nil
		}
		eventBatches++
		if eventBatches == 1 {
			return errInjected
		}
		return nil
	}
	r.in.afterCommit = func(l lane, msgs int) error {
		mu.Lock()
		if l == laneEvents && eventBatches == 3 && committedThenFailed == 0 {
			committedThenFailed = msgs
			mu.Unlock()
			return errInjected
		}
		mu.Unlock()
		check()
		return nil
	}
	r.run(t)
	waitFor(t, "every event stored and the committed batch redelivered", done)
	ctx := context.Background()
	if got, _ := r.st.CountEvents(ctx); got != int64(total) {
		t.Errorf("%d events stored, want %d", got, total)
	}
	for agent := range seqs {
		ids, err := r.st.EventIDs(ctx, agent)
		if err != nil {
			t.Fatal(err)
		}
		for id, c := range ids {
			if c != 1 {
				t.Errorf("%s stored %d times", id, c)
			}
		}
	}
	if list, _ := r.st.Alerts(ctx, store.AlertFilter{}); len(list) != 1 {
		t.Errorf("%d alerts stored, want 1", len(list))
	}
	if losses, _ := r.st.Losses(ctx, "", 0); len(losses) != 0 {
		t.Errorf("loss %+v remains after the failed batches came back", losses)
	}
	if got := int(testutil.ToFloat64(r.m.StoreErrors)); got != 3 {
		t.Errorf("%d store errors counted, want 3", got)
	}
}

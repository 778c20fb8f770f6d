package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testnats"
	"github.com/vigilhq/vigil/internal/testproc"
)

// encoded is a message as the agent sends it (event.Encode, id first).
func encoded(t *testing.T, evs ...*event.Event) Msg {
	t.Helper()
	var data []byte
	for i, e := range evs {
		b, err := event.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			data = append(data, '\n')
		}
		data = append(data, b...)
	}
	return Msg{Subject: event.Subject(evs[0].Site, evs[0].AgentID, event.ClassEvents), Data: data}
}

// After each stored batch the collector tells the agent the highest seq
// of its boot stored with every seq before it: a pending gap holds it
// back until late events fill it or it is counted lost, and a batch of
// duplicates (an agent resending what was stored) is told it too.
func TestCommittedWatermarks(t *testing.T) {
	in, st, _, _ := newIngest(t, nil)
	ctx, marks, other := watchCommitted(t, in)
	store := func(seqs ...uint64) {
		t.Helper()
		evs := make([]*event.Event, len(seqs))
		for i, s := range seqs {
			evs[i] = ev("leeds", "a1", s, event.KindFileWrite)
		}
		if err := in.Handle(ctx, []Msg{encoded(t, evs...)}); err != nil {
			t.Fatal(err)
		}
	}
	want := func(seq uint64) { t.Helper(); wantWatermark(t, marks, seq) }
	store(1, 2, 3)
	want(3)
	store(6) // 4-5 pending: late, or lost
	want(3)
	store(2) // a resend of what was stored
	want(3)
	store(4, 5)
	want(6)
	store(9)
	want(6)
	if _, err := st.ConfirmGaps(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	store(9) // 7-8 now counted lost
	want(9)
	if m, err := other.NextMsg(100 * time.Millisecond); err == nil {
		t.Fatalf("another agent was told a1's watermark: %s", m.Data)
	}
	if _, err := marks.NextMsg(300 * time.Millisecond); err == nil {
		t.Fatal("a watermark with nothing stored")
	}
}

// With two lanes the events lane counts an alert in its agent's seqs
// before the priority lane may have stored it: the watermark stays below
// the alert until it is stored, or a power loss in between would lose it
// with the agent told it was safe.
func TestCommittedWatermarkWaitsForAlertsInTheOtherLane(t *testing.T) {
	in, _, _, _ := newIngest(t, nil)
	ctx, marks, _ := watchCommitted(t, in)
	al := ev("leeds", "a1", 2, event.KindAlert)
	al.Alert = &event.Alert{Rule: "bulk_export", Severity: "high", Summary: "export", Scope: "host"}
	alert := encoded(t, al)
	alert.Subject = event.Subject("leeds", "a1", event.ClassAlerts)
	lanes := []struct {
		msgs []Msg
		l    lane
		want uint64
	}{
		{[]Msg{encoded(t, ev("leeds", "a1", 1, event.KindFileWrite)), alert, encoded(t, ev("leeds", "a1", 3, event.KindFileWrite))}, laneEvents, 1},
		{[]Msg{alert}, lanePriority, 3},
	}
	for _, c := range lanes {
		if err := in.handle(ctx, decodeAll(c.msgs), c.l); err != nil {
			t.Fatal(err)
		}
		wantWatermark(t, marks, c.want)
	}
}

// watchCommitted runs in's PublishCommitted on a NATS server and
// subscribes to the watermarks of agents a1 and a2.
func watchCommitted(t *testing.T, in *Ingest) (ctx context.Context, a1, a2 *nats.Subscription) {
	t.Helper()
	srv := testnats.Run(t, testnats.Options(t))
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	marks, err := nc.SubscribeSync(event.CommittedSubject("a1"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := nc.SubscribeSync(event.CommittedSubject("a2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go in.PublishCommitted(ctx, nc)
	testproc.CheckFor(t, 5*time.Second, time.Millisecond, func() error {
		if !in.committed.on.Load() {
			return fmt.Errorf("PublishCommitted has not started")
		}
		return nil
	})
	return ctx, marks, other
}

// wantWatermark waits for the next watermark on marks and checks it says
// boot b-a1 is stored up to seq.
func wantWatermark(t *testing.T, marks *nats.Subscription, seq uint64) {
	t.Helper()
	m, err := marks.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no watermark for seq %d: %v", seq, err)
	}
	var got map[string]uint64
	if err := json.Unmarshal(m.Data, &got); err != nil {
		t.Fatal(err)
	}
	if got["b-a1"] != seq || len(got) != 1 {
		t.Fatalf("watermark %s, want b-a1 at %d", m.Data, seq)
	}
}

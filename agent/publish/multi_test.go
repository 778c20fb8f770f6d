package publish

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// recorder is a Sink in front of a Publisher that keeps the wire bytes of
// every event, to compare with what arrives.
type recorder struct {
	p   *Publisher
	mu  sync.Mutex
	enc map[string][]byte
}

func newRecorder(p *Publisher) *recorder { return &recorder{p: p, enc: map[string][]byte{}} }

func (r *recorder) Publish(ev *event.Event) error {
	b, err := event.Encode(ev)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.enc[ev.ID] = b
	r.mu.Unlock()
	return r.p.Publish(ev)
}

// checkBodies checks that each message is exactly the wire bytes of the
// events it carries, joined by '\n'.
func (r *recorder) checkBodies(t *testing.T, msgs []streamMsg) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, m := range msgs {
		var want [][]byte
		for _, ev := range m.evs {
			want = append(want, r.enc[ev.ID])
		}
		if !bytes.Equal(m.data, bytes.Join(want, []byte("\n"))) {
			t.Fatalf("message %d (%d events from %s) is not their wire bytes joined by newlines", i, len(m.evs), m.evs[0].ID)
		}
	}
}

func bigEvent(f *fakeAgent, size int) {
	f.Emit(&event.Event{Kind: event.KindFileWrite, File: &event.File{Path: "/tmp/" + strings.Repeat("x", size), Bytes: 1}})
}

func TestBurstGoesSeveralEventsToAMessage(t *testing.T) {
	port := freePort(t)
	_, st := startServer(t, port, t.TempDir())
	p := newPublisher(t, fmt.Sprintf("nats://127.0.0.1:%d", port), t.TempDir(), nil)
	defer p.Close()
	rec := newRecorder(p)
	f := &fakeAgent{pub: rec}
	emitN(f, 2000)
	waitFor(t, "spool to drain", 20*time.Second, func() bool { return p.Stats().Depth == 0 })
	msgs := streamMsgs(t, st, "")
	rec.checkBodies(t, msgs)
	checkInOrder(t, streamSeqs(t, st, ""), 2000)
	if len(msgs) > 2000/4 {
		t.Fatalf("2000 events in %d messages: not batched", len(msgs))
	}
	if s := p.Stats(); s.Acked != 2000 || s.Spooled != 2000 {
		t.Fatalf("stats %+v: want 2000 events spooled and acked (events, not messages)", s)
	}
}

func TestMessagesKeepToTheLimits(t *testing.T) {
	for _, tc := range tailCases {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			p := newPublisher(t, fmt.Sprintf("nats://127.0.0.1:%d", port), t.TempDir(), nil)
			defer p.Close()
			setTailMax(p.sp, tc.tailMax)
			rec := newRecorder(p)
			f := &fakeAgent{pub: rec}
			// A backlog while the collector is away: many small events,
			// then big ones, one near the size limit of an event, then
			// small ones again.
			emitN(f, 1100)
			for range 12 {
				bigEvent(f, 100<<10)
			}
			bigEvent(f, event.MaxWireSize-1024)
			emitN(f, 3)
			bigEvent(f, 100<<10)
			_, st := startServer(t, port, t.TempDir())
			waitFor(t, "spool to drain", 20*time.Second, func() bool { return p.Stats().Depth == 0 })
			msgs := streamMsgs(t, st, "") // none over 256 KiB or 512 events
			rec.checkBodies(t, msgs)
			checkInOrder(t, streamSeqs(t, st, ""), int(f.seq))
			// With all of it spooled, each message holds as many events as
			// the limits allow.
			rec.mu.Lock()
			defer rec.mu.Unlock()
			counts := make([]int, len(msgs))
			for i, m := range msgs {
				counts[i] = len(m.evs)
				if i+1 == len(msgs) {
					break
				}
				next := rec.enc[msgs[i+1].evs[0].ID]
				if len(m.evs) < maxMsgEvents && len(m.data)+1+len(next) <= 256<<10 {
					t.Fatalf("message %d holds %d events in %d bytes: the next event (%d bytes) would have fit", i, len(m.evs), len(m.data), len(next))
				}
			}
			if counts[0] != maxMsgEvents || counts[1] != maxMsgEvents {
				t.Fatalf("events per message %v, want %d in the first two", counts, maxMsgEvents)
			}
		})
	}
}

func TestAlertBetweenEventsGoesAloneInOrder(t *testing.T) {
	port := freePort(t)
	p := newPublisher(t, fmt.Sprintf("nats://127.0.0.1:%d", port), t.TempDir(), nil)
	defer p.Close()
	f := &fakeAgent{pub: p}
	emitN(f, 5)
	emitAlert(f) // seq 6
	emitN(f, 5)
	// The collector is away: the fast lane fails, the alert waits in the
	// spool between the events.
	waitFor(t, "the fast lane to try the alert", 5*time.Second, func() bool {
		p.alertMu.Lock()
		defer p.alertMu.Unlock()
		return len(p.alerts) == 0
	})
	_, st := startServer(t, port, t.TempDir())
	waitFor(t, "spool to drain", 20*time.Second, func() bool { return p.Stats().Depth == 0 })
	msgs := streamMsgs(t, st, "")
	var got []string
	for _, m := range msgs {
		got = append(got, fmt.Sprintf("%s:%d-%d", m.subj[strings.LastIndexByte(m.subj, '.')+1:], m.evs[0].Seq, m.evs[len(m.evs)-1].Seq))
	}
	if want := "[events:1-5 alerts:6-6 events:7-11]"; fmt.Sprint(got) != want {
		t.Fatalf("messages %v, want %s", got, want)
	}
	if s := p.Stats(); s.Acked != 11 {
		t.Fatalf("%d events acked, want 11", s.Acked)
	}
}

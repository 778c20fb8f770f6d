package publish

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testproc"
)

func TestLingerHoldsEventsNoLongerThanTheLimit(t *testing.T) {
	const linger = 100 * time.Millisecond
	_, st, url := runServer(t, testproc.FreePort(t), "vigil.>")
	arrived := subscribeAgent(t, url)
	// Events arrive in messages that may carry several.
	var queued []*event.Event
	var queuedAt time.Time
	next := func(what string) (*event.Event, time.Time) {
		t.Helper()
		if len(queued) == 0 {
			select {
			case m := <-arrived:
				queued, queuedAt = msgEvents(t, m.Subject, m.Header, m.Data), time.Now()
			case <-time.After(5 * time.Second):
				t.Fatalf("%s never arrived", what)
			}
		}
		ev := queued[0]
		queued = queued[1:]
		return ev, queuedAt
	}
	p := newPublisher(t, url, t.TempDir(), func(c *Config) { c.Linger = linger.String() })
	defer p.Close()
	f := &fakeAgent{pub: p}

	// An event after a quiet spell goes at once...
	t1 := time.Now()
	emitN(f, 1)
	if ev, at := next("event 1"); ev.Seq != 1 || at.Sub(t1) >= linger {
		t.Fatalf("event %d took %s after a quiet spell, want < %s", ev.Seq, at.Sub(t1), linger)
	}
	// ...the next ones wait for the linger after that send, together...
	t2 := time.Now()
	emitN(f, 3)
	for i := range 3 {
		ev, at := next("events 2-4")
		if ev.Seq != uint64(i+2) || at.Sub(t1) < linger {
			t.Fatalf("event %d arrived %s after the previous send, before the %s linger", ev.Seq, at.Sub(t1), linger)
		}
		if at.Sub(t2) > linger+500*time.Millisecond {
			t.Fatalf("event %d held %s, far beyond the %s linger", ev.Seq, at.Sub(t2), linger)
		}
	}
	// ...but an alert does not wait, not even behind an event lingering.
	emitN(f, 1) // seq 5
	emitAlert(f)
	if ev, _ := next("alert"); ev.Kind != event.KindAlert {
		t.Fatalf("%s %d arrived before the alert", ev.Kind, ev.Seq)
	}
	waitDrained(t, p, 5*time.Second)
	if seqs := streamSeqs(t, st, ""); !slices.Equal(seqs, []uint64{1, 2, 3, 4, 6, 5}) {
		t.Fatalf("stream order %v, want the alert (6) ahead of event 5", seqs)
	}
}

func TestBurstGoesSeveralEventsToAMessage(t *testing.T) {
	port := testproc.FreePort(t)
	_, st := startServer(t, port, t.TempDir())
	p := newPublisher(t, fmt.Sprintf("nats://127.0.0.1:%d", port), t.TempDir(), nil)
	defer p.Close()
	rec := newRecorder(p)
	f := &fakeAgent{pub: rec}
	emitN(f, 2000)
	waitDrained(t, p, 20*time.Second)
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
			port := testproc.FreePort(t)
			p := newPublisher(t, fmt.Sprintf("nats://127.0.0.1:%d", port), t.TempDir(), nil)
			defer p.Close()
			p.sp.SetTailMax(tc.tailMax)
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
			waitDrained(t, p, 20*time.Second)
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
	port := testproc.FreePort(t)
	p := newPublisher(t, fmt.Sprintf("nats://127.0.0.1:%d", port), t.TempDir(), nil)
	defer p.Close()
	f := &fakeAgent{pub: p}
	emitN(f, 5)
	emitAlert(f) // seq 6
	emitN(f, 5)
	// The collector is away: the fast lane fails, the alert waits in the
	// spool between the events.
	testproc.CheckFor(t, 5*time.Second, pollEvery, func() error {
		p.alertMu.Lock()
		defer p.alertMu.Unlock()
		if len(p.alerts) != 0 {
			return fmt.Errorf("%d alerts wait for the fast lane", len(p.alerts))
		}
		return nil
	})
	_, st := startServer(t, port, t.TempDir())
	waitDrained(t, p, 20*time.Second)
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

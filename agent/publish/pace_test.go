package publish

import (
	"slices"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testproc"
)

// TestDrainedPacesTheSender checks that once the source calls Drained,
// events go when it does (not on the sender's own linger timer), that an
// alert still goes at once, that events a source leaves without a Drained
// still go by the flusher's slower tick, and that Close sends what is left.
func TestDrainedPacesTheSender(t *testing.T) {
	const linger = 50 * time.Millisecond
	_, st, url := runServer(t, testproc.FreePort(t), "vigil.>")
	arrived := subscribeAgent(t, url)
	next := func(what string, within time.Duration) []*event.Event {
		t.Helper()
		select {
		case m := <-arrived:
			return msgEvents(t, m.Subject, m.Header, m.Data)
		case <-time.After(within):
			t.Fatalf("%s did not arrive within %s", what, within)
		}
		return nil
	}
	quiet := func(what string, d time.Duration) {
		t.Helper()
		select {
		case m := <-arrived:
			t.Fatalf("%s: a message of %d events arrived", what, len(msgEvents(t, m.Subject, m.Header, m.Data)))
		case <-time.After(d):
		}
	}
	p := newPublisher(t, url, t.TempDir(), func(c *Config) { c.Linger = linger.String() })
	f := &fakeAgent{pub: p}

	p.Drained() // from now on the source paces the sender
	emitN(f, 1)
	p.Drained()
	if evs := next("event 1", 5*time.Second); evs[0].Seq != 1 {
		t.Fatalf("event %d arrived first, want 1", evs[0].Seq)
	}
	emitN(f, 3)
	// Unpaced, the first event after a quiet spell goes at once and the
	// rest within the linger; paced, they wait for the source. (The
	// flusher's paced tick, a second, is further off than this wait.)
	quiet("events before Drained", 4*linger)
	p.Drained()
	if evs := next("events 2-4 after Drained", 5*time.Second); len(evs) != 3 || evs[0].Seq != 2 {
		t.Fatalf("first message after Drained carries %d events from seq %d, want 3 from 2", len(evs), evs[0].Seq)
	}

	emitN(f, 1) // seq 5, waits for a Drained
	emitAlert(f)
	if evs := next("alert", 5*time.Second); evs[0].Kind != event.KindAlert {
		t.Fatalf("%s %d arrived before the alert", evs[0].Kind, evs[0].Seq)
	}

	// A source that stops calling Drained: the flusher's tick sends.
	if evs := next("event 5 without Drained", 3*pacedTick); evs[0].Seq != 5 {
		t.Fatalf("event %d arrived, want 5", evs[0].Seq)
	}

	emitN(f, 2) // seq 7, 8: Close sends them without a Drained
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	seqs := streamSeqs(t, st, "vigil.leeds.ag-1.events")
	if !slices.Equal(seqs, []uint64{1, 2, 3, 4, 5, 7, 8}) {
		t.Fatalf("events stored %v, want 1-5, 7, 8", seqs)
	}
}

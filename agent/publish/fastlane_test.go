package publish

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestAlertOvertakesTheBacklog(t *testing.T) {
	// The stream takes alerts only: events back up in the spool.
	js, st, url := runServer(t, freePort(t), "vigil.*.*.alerts")
	p := newPublisher(t, url, t.TempDir(), nil)
	defer p.Close()
	f := &fakeAgent{pub: p}
	emitN(f, 100)
	emitAlert(f) // seq 101
	waitFor(t, "alert stored", 5*time.Second, func() bool {
		info, err := st.Info(context.Background())
		return err == nil && info.State.Msgs == 1
	})
	if d := p.Stats().Depth; d != 101 {
		t.Fatalf("spool depth %d after the fast alert, want 101: the alert stays spooled behind the events", d)
	}
	openStream(t, js)
	waitFor(t, "spool to drain", 20*time.Second, func() bool { return p.Stats().Depth == 0 })
	seqs := streamSeqs(t, st, "") // fails on the alert twice
	want := append([]uint64{101}, seqsFrom(1, 100)...)
	if !slices.Equal(seqs, want) {
		t.Fatalf("stream order %v, want the alert first then events 1..100", seqs)
	}
}

func TestAlertResentInOrderWhenFastPublishFails(t *testing.T) {
	// No stream takes alerts yet: the fast publish fails.
	js, st, url := runServer(t, freePort(t), "vigil.*.*.events")
	p := newPublisher(t, url, t.TempDir(), nil)
	defer p.Close()
	f := &fakeAgent{pub: p}
	emitN(f, 5)
	emitAlert(f) // seq 6
	emitN(f, 5)
	waitFor(t, "events before the alert", 5*time.Second, func() bool { return p.Stats().Depth == 6 })
	openStream(t, js)
	waitFor(t, "spool to drain", 20*time.Second, func() bool { return p.Stats().Depth == 0 })
	// Events after the alert may have been stored before it was refused
	// (the window was in flight), and again when resent: each arrives at
	// least once.
	seqs, _ := deliveredSeqs(t, st, "")
	slices.Sort(seqs)
	checkInOrder(t, seqs, 11)
	if p.Stats().Retries == 0 {
		t.Fatal("no retry counted: the alert was never refused")
	}
}

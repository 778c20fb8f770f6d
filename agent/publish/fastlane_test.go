package publish

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/testproc"
)

func TestAlertOvertakesTheBacklog(t *testing.T) {
	// The stream takes alerts only: events back up in the spool.
	js, st, url := runServer(t, testproc.FreePort(t), "vigil.*.*.alerts")
	p := newPublisher(t, url, t.TempDir(), nil)
	defer p.Close()
	f := &fakeAgent{pub: p}
	emitN(f, 100)
	emitAlert(f) // seq 101
	testproc.CheckFor(t, 5*time.Second, pollEvery, func() error {
		info, err := st.Info(context.Background())
		if err != nil {
			return err
		}
		if info.State.Msgs != 1 {
			return fmt.Errorf("stream holds %d messages, want the alert alone", info.State.Msgs)
		}
		return nil
	})
	if d := p.Stats().Depth; d != 101 {
		t.Fatalf("spool depth %d after the fast alert, want 101: the alert stays spooled behind the events", d)
	}
	openStream(t, js)
	waitDrained(t, p, 20*time.Second)
	seqs := streamSeqs(t, st, "") // fails on the alert twice
	want := append([]uint64{101}, seqsFrom(1, 100)...)
	if !slices.Equal(seqs, want) {
		t.Fatalf("stream order %v, want the alert first then events 1..100", seqs)
	}
}

func TestAlertResentInOrderWhenFastPublishFails(t *testing.T) {
	// No stream takes alerts yet: the fast publish fails.
	js, st, url := runServer(t, testproc.FreePort(t), "vigil.*.*.events")
	p := newPublisher(t, url, t.TempDir(), nil)
	defer p.Close()
	f := &fakeAgent{pub: p}
	emitN(f, 5)
	emitAlert(f) // seq 6
	emitN(f, 5)
	testproc.CheckFor(t, 5*time.Second, pollEvery, func() error {
		if p.Stats().Depth == 6 {
			return nil
		}
		return fmt.Errorf("waiting for events before the alert: %+v", p.Stats())
	})
	openStream(t, js)
	waitDrained(t, p, 20*time.Second)
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

package publish

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/publish/spool"
	"github.com/vigilhq/vigil/internal/testproc"
)

func TestSpoolsWhileCollectorAwayThenDrainsInOrder(t *testing.T) {
	port := testproc.FreePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	p := newPublisher(t, url, t.TempDir(), nil)
	defer p.Close()
	f := &fakeAgent{pub: p}
	emitN(f, 500)
	if d := p.Stats().Depth; d != 500 {
		t.Fatalf("spool depth %d with no collector, want 500", d)
	}
	_, st := startServer(t, port, t.TempDir())
	waitDrained(t, p, 20*time.Second)
	emitN(f, 100) // and live events after the backlog
	waitDrained(t, p, 10*time.Second)
	checkInOrder(t, streamSeqs(t, st, ""), 600)
}

func TestRestartResumesFromSpool(t *testing.T) {
	port := testproc.FreePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	dir := t.TempDir()
	p := newPublisher(t, url, dir, nil)
	f := &fakeAgent{pub: p}
	emitN(f, 300)
	if err := p.Close(); err != nil { // collector away: the events stay spooled
		t.Fatal(err)
	}
	p = newPublisher(t, url, dir, nil)
	defer p.Close()
	if d := p.Stats().Depth; d != 300 {
		t.Fatalf("spool depth after restart %d, want 300", d)
	}
	f.pub = p
	emitN(f, 50)
	_, st := startServer(t, port, t.TempDir())
	waitDrained(t, p, 20*time.Second)
	checkInOrder(t, streamSeqs(t, st, ""), 350)
}

func TestServerRestartMidStreamLosesNothing(t *testing.T) {
	port := testproc.FreePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	store := t.TempDir()
	s, _ := startServer(t, port, store)
	p := newPublisher(t, url, t.TempDir(), nil)
	defer p.Close()
	f := &fakeAgent{pub: p}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 40 {
			emitN(f, 50)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	testproc.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if p.Stats().Acked > 200 {
			return nil
		}
		return fmt.Errorf("waiting for some events acked: %+v", p.Stats())
	})
	s.Shutdown()
	s.WaitForShutdown()
	<-done
	_, st := startServer(t, port, store)
	waitDrained(t, p, 30*time.Second)
	// At least once, in order: a run resent may come in other messages.
	seqs, _ := deliveredSeqs(t, st, "")
	checkInOrder(t, seqs, 2000)
	if st := p.Stats(); st.Acked < 2000 {
		t.Fatalf("%d events acked of 2000", st.Acked)
	}
	if n := len(streamMsgs(t, st, "")); n >= 2000 {
		t.Fatalf("2000 events in %d messages: not batched", n)
	}
}

func TestServerRestartResendsInOrderFromMemoryOrFile(t *testing.T) {
	for _, tc := range tailCases {
		t.Run(tc.name, func(t *testing.T) {
			port := testproc.FreePort(t)
			url := fmt.Sprintf("nats://127.0.0.1:%d", port)
			store := t.TempDir()
			s, _ := startServer(t, port, store)
			p := newPublisher(t, url, t.TempDir(), nil)
			defer p.Close()
			p.sp.SetTailMax(tc.tailMax)
			f := &fakeAgent{pub: p}
			emitN(f, 500)
			testproc.CheckFor(t, 10*time.Second, pollEvery, func() error {
				if p.Stats().Acked > 100 {
					return nil
				}
				return fmt.Errorf("waiting for some events acked: %+v", p.Stats())
			})
			s.Shutdown()
			s.WaitForShutdown()
			emitN(f, 500) // while the collector is away
			_, st := startServer(t, port, store)
			waitDrained(t, p, 30*time.Second)
			seqs, _ := deliveredSeqs(t, st, "") // at least once
			checkInOrder(t, seqs, 1000)
			n := p.sp.FileReads()
			if tc.tailMax == spool.DefaultTailMax && n != 0 {
				t.Fatalf("%d records read back from the file with all of them in memory", n)
			}
			if tc.tailMax < spool.DefaultTailMax && n == 0 {
				t.Fatal("nothing read from the file behind a 2 KiB tail")
			}
		})
	}
}

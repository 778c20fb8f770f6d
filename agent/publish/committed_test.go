package publish

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testproc"
)

// newCommitPublisher is newPublisher with a commit timeout of its own.
func newCommitPublisher(t *testing.T, url, spoolDir string, commitTimeout time.Duration) *Publisher {
	t.Helper()
	p, err := New(&Config{URL: url, SpoolDir: spoolDir, HeartbeatEvery: time.Hour}, Options{Site: "leeds", Host: "ws-a",
		AgentID: "ag-1", DrainTimeout: 200 * time.Millisecond, AckTimeout: 2 * time.Second, CommitTimeout: commitTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// sendWatermark publishes what a collector publishes once it stored boot1
// up to seq.
func sendWatermark(t *testing.T, url string, seq uint64) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	data, _ := json.Marshal(map[string]uint64{"boot1": seq})
	if err := nc.Publish(event.CommittedSubject("ag-1"), data); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

func waitStats(t *testing.T, p *Publisher, what string, ok func(Stats) bool) {
	t.Helper()
	testproc.CheckFor(t, 20*time.Second, pollEvery, func() error {
		if st := p.Stats(); !ok(st) {
			return fmt.Errorf("waiting for %s: %+v", what, st)
		}
		return nil
	})
}

// JetStream acknowledged every event, then its server lost its store (a
// power loss before it synced) and came back empty: the agent still has
// the events, since no watermark said the collector stored them, and
// resends them all on reconnecting. A watermark then lets them go.
func TestServerLosingAcknowledgedEventsGetsThemResent(t *testing.T) {
	port := testproc.FreePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	storeDir := t.TempDir()
	s, _ := startServer(t, port, storeDir)
	p := newCommitPublisher(t, url, t.TempDir(), time.Hour)
	f := &fakeAgent{pub: p}
	emitN(f, 500)
	waitStats(t, p, "500 acknowledged", func(st Stats) bool { return st.Acked == 500 })
	if st := p.Stats(); st.Unconfirmed != 500 || st.Depth != 0 {
		t.Fatalf("acknowledged events not kept until confirmed: %+v", st)
	}
	s.Shutdown()
	s.WaitForShutdown()
	if err := os.RemoveAll(storeDir); err != nil {
		t.Fatal(err)
	}
	_, st := startServer(t, port, storeDir)
	testproc.CheckFor(t, 20*time.Second, pollEvery, func() error {
		seqs, _ := deliveredSeqs(t, st, "")
		if len(seqs) != 500 {
			return fmt.Errorf("%d of 500 events in the new stream (%+v)", len(seqs), p.Stats())
		}
		return nil
	})
	seqs, _ := deliveredSeqs(t, st, "")
	checkInOrder(t, seqs, 500)
	sendWatermark(t, url, 500)
	waitStats(t, p, "all confirmed", func(st Stats) bool { return st.Unconfirmed == 0 })
	if got := p.Stats().Rewinds; got == 0 {
		t.Fatal("no resend counted")
	}
}

// A watermark confirms what it covers and no more; one that stays behind
// what JetStream acknowledged past the commit timeout makes the sender
// resend from the first unconfirmed event.
func TestStalledWatermarkResends(t *testing.T) {
	port := testproc.FreePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	startServer(t, port, t.TempDir())
	p := newCommitPublisher(t, url, t.TempDir(), 500*time.Millisecond)
	f := &fakeAgent{pub: p}
	sendWatermark(t, url, 0) // a collector that publishes watermarks
	emitN(f, 100)
	waitStats(t, p, "100 acknowledged", func(st Stats) bool { return st.Acked >= 100 })
	sendWatermark(t, url, 100)
	waitStats(t, p, "all confirmed", func(st Stats) bool { return st.Unconfirmed == 0 })
	emitN(f, 100)
	waitStats(t, p, "a resend", func(st Stats) bool { return st.Rewinds > 0 && st.Unconfirmed > 0 })
	sendWatermark(t, url, 200)
	waitStats(t, p, "all confirmed", func(st Stats) bool { return st.Unconfirmed == 0 })
	if p.Stats().CommitFallback {
		t.Fatal("fell back to forgetting at the ack with a collector that publishes watermarks")
	}
}

// A collector that publishes no watermarks (an older one) leaves the
// agent neither resending forever nor keeping everything: after the
// commit timeout it forgets at JetStream's ack, and says so.
func TestNoWatermarksFallsBackToTheAck(t *testing.T) {
	port := testproc.FreePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	startServer(t, port, t.TempDir())
	p := newCommitPublisher(t, url, t.TempDir(), 300*time.Millisecond)
	f := &fakeAgent{pub: p}
	emitN(f, 100)
	waitStats(t, p, "the fallback", func(st Stats) bool { return st.CommitFallback && st.Unconfirmed == 0 })
	emitN(f, 100)
	waitStats(t, p, "200 acknowledged and confirmed", func(st Stats) bool { return st.Acked == 200 && st.Unconfirmed == 0 })
	if got := p.Stats().Rewinds; got != 0 {
		t.Fatalf("%d resends without watermarks", got)
	}
}

// A collector behind but storing (its watermark moves, slower than the
// acks) is neither resent to nor waited on in a busy loop.
func TestSlowWatermarkIsNotAStall(t *testing.T) {
	port := testproc.FreePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	startServer(t, port, t.TempDir())
	p := newCommitPublisher(t, url, t.TempDir(), 300*time.Millisecond)
	f := &fakeAgent{pub: p}
	sendWatermark(t, url, 0)
	emitN(f, 100)
	waitStats(t, p, "100 acknowledged", func(st Stats) bool { return st.Acked >= 100 })
	cpu0 := testproc.CPUTime()
	for seq := uint64(1); seq <= 10; seq++ {
		time.Sleep(150 * time.Millisecond) // the collector's pace, the condition under test
		sendWatermark(t, url, seq)
	}
	cpu := testproc.CPUTime() - cpu0
	t.Logf("%v of CPU while the watermark crept", cpu)
	if cpu > 400*time.Millisecond {
		t.Fatalf("%v of CPU in 1.5 s while the watermark crept: the sender spins", cpu)
	}
	if st := p.Stats(); st.Rewinds != 0 || st.CommitFallback || st.Unconfirmed == 0 {
		t.Fatalf("a collector behind but storing: %+v", st)
	}
}

// A collector that stops publishing watermarks (replaced by an older one)
// gets one resend, then the agent forgets at the ack rather than resend
// every commit timeout.
func TestWatermarksThatStopFallBackToTheAck(t *testing.T) {
	port := testproc.FreePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	startServer(t, port, t.TempDir())
	p := newCommitPublisher(t, url, t.TempDir(), 300*time.Millisecond)
	f := &fakeAgent{pub: p}
	sendWatermark(t, url, 0)
	emitN(f, 100)
	waitStats(t, p, "the fallback", func(st Stats) bool { return st.CommitFallback && st.Unconfirmed == 0 })
	if got := p.Stats().Rewinds; got == 0 || got > 2 {
		t.Fatalf("%d resends before falling back, want 1 or 2", got)
	}
	sendWatermark(t, url, 100) // it comes back
	waitStats(t, p, "the watermarks honoured again", func(st Stats) bool { return !st.CommitFallback })
	emitN(f, 100)
	waitStats(t, p, "200 acknowledged", func(st Stats) bool { return st.Acked >= 200 && st.Unconfirmed > 0 })
}

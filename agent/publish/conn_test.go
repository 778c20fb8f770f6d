package publish

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testproc"
)

// A co-hosted server's pid must reach the agent's sensors before the agent
// publishes on a connection: what it publishes makes that server write (its
// stream, its consumers' state), and writes made before the sensors know
// the server come back as events. While Options.Connected runs nothing
// reaches the server, no event, alert or heartbeat, on the first
// connection and after a reconnection.
func TestNothingPublishedBeforeConnectionReported(t *testing.T) {
	port := testproc.FreePort(t)
	type call struct {
		addr    string
		release chan struct{}
	}
	calls := make(chan call)
	p, err := New(&Config{URL: fmt.Sprintf("nats://127.0.0.1:%d", port), SpoolDir: t.TempDir(), HeartbeatEvery: 50 * time.Millisecond},
		Options{Site: "leeds", Host: "ws-a", AgentID: "ag-1", DrainTimeout: 200 * time.Millisecond, AckTimeout: 2 * time.Second,
			Connected: func(addr string) {
				if addr == "" {
					return
				}
				c := call{addr, make(chan struct{})}
				calls <- c
				<-c.release
			}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f := &fakeAgent{pub: p}
	p.Start(f)
	alert := func() {
		f.Emit(&event.Event{Kind: event.KindAlert, Alert: &event.Alert{Rule: "bulk-export", Severity: "high", Summary: "s"}})
	}
	msgs := func(st jetstream.Stream) uint64 {
		info, err := st.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	// hold receives the report of a connection and, before releasing it,
	// checks for a while that the server's stream gets nothing new.
	hold := func(what string, st jetstream.Stream) {
		t.Helper()
		var c call
		select {
		case c = <-calls:
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: never reported", what)
		}
		if want := fmt.Sprintf("127.0.0.1:%d", port); c.addr != want {
			t.Errorf("%s reported as %q, want %q", what, c.addr, want)
		}
		before := msgs(st)
		for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if n := msgs(st); n != before {
				close(c.release)
				t.Fatalf("%s: %d messages reached the server before the connection was reported", what, n-before)
			}
		}
		close(c.release)
	}

	emitN(f, 20)
	alert()
	store := t.TempDir()
	s, st := startServer(t, port, store)
	hold("first connection", st)
	waitDrained(t, p, 20*time.Second)

	s.Shutdown()
	s.WaitForShutdown()
	emitN(f, 20)
	alert()
	_, st = startServer(t, port, store)
	hold("reconnection", st)
	waitDrained(t, p, 20*time.Second)
	// Every event and alert arrived (heartbeats carry seq 0).
	got := map[uint64]bool{}
	seqs, _ := deliveredSeqs(t, st, "")
	for _, s := range seqs {
		if s != 0 {
			got[s] = true
		}
	}
	for s := uint64(1); s <= 42; s++ {
		if !got[s] {
			t.Fatalf("seq %d never reached the server (%d of 42 did)", s, len(got))
		}
	}
}

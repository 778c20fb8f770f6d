package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testnats"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer runs JetStream on port with the stream the collector makes.
func startServer(t *testing.T, port int, storeDir string) (*server.Server, jetstream.Stream) {
	t.Helper()
	o := testnats.Options(t)
	o.Port = port
	o.StoreDir = storeDir
	s := testnats.Run(t, o)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	st, err := js.CreateOrUpdateStream(context.Background(), jetstream.StreamConfig{
		Name: "VIGIL", Subjects: []string{"vigil.>"}, Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

type fakeAgent struct {
	mu      sync.Mutex
	seq     uint64
	pub     agent.Sink
	sensors []string
}

func (f *fakeAgent) BootID() string { return "boot1" }
func (f *fakeAgent) Stats() agent.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return agent.Stats{Events: f.seq}
}
func (f *fakeAgent) Sensors() []string { return f.sensors }
func (f *fakeAgent) Emit(ev *event.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	ev.Seq, ev.BootID, ev.ID = f.seq, "boot1", event.MakeID("boot1", f.seq)
	ev.Site, ev.Host, ev.AgentID = "leeds", "ws-a", "ag-1"
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	if err := f.pub.Publish(ev); err != nil {
		panic(err)
	}
}

func emitN(f *fakeAgent, n int) {
	for range n {
		f.Emit(&event.Event{Kind: event.KindFileWrite, File: &event.File{Path: "/tmp/x", Bytes: 10}})
	}
}

func newPublisher(t *testing.T, url, spoolDir string, mut func(*Config)) *Publisher {
	t.Helper()
	cfg := &Config{URL: url, SpoolDir: spoolDir, HeartbeatEvery: time.Hour}
	if mut != nil {
		mut(cfg)
	}
	p, err := New(cfg, Options{Site: "leeds", Host: "ws-a", AgentID: "ag-1", DrainTimeout: 200 * time.Millisecond,
		AckTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// streamSeqs reads every event in the stream and returns their seqs in
// stream order, failing on a duplicate id.
func streamSeqs(t *testing.T, st jetstream.Stream, subject string) []uint64 {
	t.Helper()
	ctx := context.Background()
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	seen := map[string]bool{}
	for i := info.State.FirstSeq; i <= info.State.LastSeq && info.State.Msgs > 0; i++ {
		m, err := st.GetMsg(ctx, i)
		if err != nil {
			continue
		}
		if subject != "" && m.Subject != subject {
			continue
		}
		ev, err := event.Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get(jetstream.MsgIDHeader) != ev.ID {
			t.Fatalf("Nats-Msg-Id %q for event %s", m.Header.Get(jetstream.MsgIDHeader), ev.ID)
		}
		if seen[ev.ID] {
			t.Fatalf("event %s twice in the stream", ev.ID)
		}
		seen[ev.ID] = true
		seqs = append(seqs, ev.Seq)
	}
	return seqs
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func checkInOrder(t *testing.T, seqs []uint64, n int) {
	t.Helper()
	if len(seqs) != n {
		t.Fatalf("stream holds %d events, want %d", len(seqs), n)
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("event %d in the stream has seq %d: out of order", i, s)
		}
	}
}

func TestSpoolsWhileCollectorAwayThenDrainsInOrder(t *testing.T) {
	port := freePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	p := newPublisher(t, url, t.TempDir(), nil)
	defer p.Close()
	f := &fakeAgent{pub: p}
	emitN(f, 500)
	if d := p.Stats().Depth; d != 500 {
		t.Fatalf("spool depth %d with no collector, want 500", d)
	}
	_, st := startServer(t, port, t.TempDir())
	waitFor(t, "spool to drain", 20*time.Second, func() bool { return p.Stats().Depth == 0 })
	emitN(f, 100) // and live events after the backlog
	waitFor(t, "live events", 10*time.Second, func() bool { return p.Stats().Depth == 0 })
	checkInOrder(t, streamSeqs(t, st, ""), 600)
}

func TestRestartResumesFromSpool(t *testing.T) {
	port := freePort(t)
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
	waitFor(t, "spool to drain", 20*time.Second, func() bool { return p.Stats().Depth == 0 })
	checkInOrder(t, streamSeqs(t, st, ""), 350)
}

func TestServerRestartMidStreamLosesNothing(t *testing.T) {
	port := freePort(t)
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
	waitFor(t, "some events acked", 10*time.Second, func() bool { return p.Stats().Acked > 200 })
	s.Shutdown()
	s.WaitForShutdown()
	<-done
	_, st := startServer(t, port, store)
	waitFor(t, "spool to drain", 30*time.Second, func() bool { return p.Stats().Depth == 0 })
	checkInOrder(t, streamSeqs(t, st, ""), 2000)
}

func TestFullSpoolEmitsLossRecord(t *testing.T) {
	port := freePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	p := newPublisher(t, url, t.TempDir(), func(c *Config) { c.SpoolMaxMiB = 1 })
	defer p.Close()
	f := &fakeAgent{pub: p}
	p.Start(f, nil)
	emitN(f, 20000) // ~ 4 MiB of events into a 1 MiB spool
	waitFor(t, "loss record", 5*time.Second, func() bool { return p.Stats().Dropped > 0 })
	_, st := startServer(t, port, t.TempDir())
	waitFor(t, "spool to drain", 20*time.Second, func() bool { return p.Stats().Depth == 0 })
	dropped := p.Stats().Dropped
	ctx := context.Background()
	info, _ := st.Info(ctx)
	var lossRecords, lossCount, got uint64
	for i := info.State.FirstSeq; i <= info.State.LastSeq; i++ {
		m, err := st.GetMsg(ctx, i)
		if err != nil || m.Subject != "vigil.leeds.ag-1.events" {
			continue
		}
		ev, err := event.Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		got++
		if ev.Kind == event.KindAgentLoss {
			if ev.Loss.Reason != "spool_full" {
				t.Fatalf("loss reason %q", ev.Loss.Reason)
			}
			lossRecords++
			lossCount += ev.Loss.Count
		}
	}
	if lossRecords == 0 || lossCount != dropped {
		t.Fatalf("%d loss records counting %d, want spool_full records counting %d", lossRecords, lossCount, dropped)
	}
	// Every event emitted is either delivered or counted as lost.
	if got+dropped != f.seq {
		t.Fatalf("delivered %d + dropped %d != emitted %d", got, dropped, f.seq)
	}
}

func TestHeartbeatCarriesCounters(t *testing.T) {
	port := freePort(t)
	_, st := startServer(t, port, t.TempDir())
	p := newPublisher(t, fmt.Sprintf("nats://127.0.0.1:%d", port), t.TempDir(), func(c *Config) { c.HeartbeatEvery = 100 * time.Millisecond })
	f := &fakeAgent{pub: p, sensors: []string{"process", "file"}}
	p.Start(f, func() string { return "abc" })
	emitN(f, 3)
	ctx := context.Background()
	var hb *event.Event
	waitFor(t, "heartbeat", 5*time.Second, func() bool {
		m, err := st.GetLastMsgForSubject(ctx, "vigil.leeds.ag-1.heartbeat")
		if err != nil {
			return false
		}
		hb, err = event.Decode(m.Data)
		return err == nil && hb.Heartbeat.Events == 3
	})
	h := hb.Heartbeat
	if h.IntervalS != 1 || fmt.Sprint(h.Sensors) != "[process file]" || h.RuleSetHash != "abc" || h.RSSBytes == 0 || hb.Seq != 0 {
		b, _ := json.Marshal(hb)
		t.Fatalf("heartbeat %s", b)
	}
	p.Close()
	// The farewell heartbeat says the agent stopped (interval 0).
	m, err := st.GetLastMsgForSubject(ctx, "vigil.leeds.ag-1.heartbeat")
	if err != nil {
		t.Fatal(err)
	}
	last, _ := event.Decode(m.Data)
	if last.Heartbeat.IntervalS != 0 {
		t.Fatalf("last heartbeat interval %d, want 0 (stopping)", last.Heartbeat.IntervalS)
	}
}

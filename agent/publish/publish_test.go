package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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

// streamConfig is the VIGIL stream the collector makes, over subjects.
func streamConfig(subjects ...string) jetstream.StreamConfig {
	return jetstream.StreamConfig{Name: "VIGIL", Subjects: subjects, Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute}
}

// serveStream runs JetStream with o and makes the VIGIL stream over subjects.
func serveStream(t *testing.T, o *server.Options, subjects ...string) (*server.Server, jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	s := testnats.Run(t, o)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	st, err := js.CreateOrUpdateStream(context.Background(), streamConfig(subjects...))
	if err != nil {
		t.Fatal(err)
	}
	return s, js, st
}

// startServer runs JetStream on port with the stream the collector makes.
func startServer(t *testing.T, port int, storeDir string) (*server.Server, jetstream.Stream) {
	t.Helper()
	o := testnats.Options(t)
	o.Port = port
	o.StoreDir = storeDir
	s, _, st := serveStream(t, o, "vigil.>")
	return s, st
}

type fakeAgent struct {
	mu      sync.Mutex
	seq     uint64
	pub     interface{ Publish(*event.Event) error }
	sensors []string
}

func (f *fakeAgent) BootID() string { return "boot1" }

// Heartbeat says how many events the fake emitted and which sensors it
// runs.
func (f *fakeAgent) Heartbeat(interval time.Duration) *event.Heartbeat {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &event.Heartbeat{IntervalS: uint32((interval + time.Second - 1) / time.Second), Events: f.seq, Sensors: f.sensors}
}
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

// msgEvents splits a message into the events it carries and checks the
// wire format: only an events message may carry several, their JSON joined
// by '\n' (no trailing newline), at most 256 KiB and maxMsgEvents in all,
// and its Nats-Msg-Id is the event's id for one, "<first id>+<n>" for n.
func msgEvents(t *testing.T, subj string, hdr nats.Header, data []byte) []*event.Event {
	t.Helper()
	if len(data) > 256<<10 {
		t.Fatalf("message of %d bytes on %s: over 256 KiB", len(data), subj)
	}
	var evs []*event.Event
	for _, line := range bytes.Split(data, []byte("\n")) {
		ev, err := event.Decode(line)
		if err != nil {
			t.Fatalf("message on %s, event %d: %v", subj, len(evs), err)
		}
		evs = append(evs, ev)
	}
	want := evs[0].ID
	if len(evs) > 1 {
		if !strings.HasSuffix(subj, "."+event.ClassEvents) {
			t.Fatalf("message on %s carries %d events", subj, len(evs))
		}
		if len(evs) > maxMsgEvents {
			t.Fatalf("message carries %d events, over %d", len(evs), maxMsgEvents)
		}
		want += "+" + strconv.Itoa(len(evs))
	}
	if got := hdr.Get(jetstream.MsgIDHeader); got != want {
		t.Fatalf("Nats-Msg-Id %q for a message of %d events from %s, want %q", got, len(evs), evs[0].ID, want)
	}
	return evs
}

// streamMsg is one stored message and the events it carries.
type streamMsg struct {
	subj string
	data []byte
	evs  []*event.Event
}

// streamMsgs reads every message in the stream (on subject, or all when
// empty) in stream order, checking each with msgEvents.
func streamMsgs(t *testing.T, st jetstream.Stream, subject string) []streamMsg {
	t.Helper()
	ctx := context.Background()
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []streamMsg
	for i := info.State.FirstSeq; i <= info.State.LastSeq && info.State.Msgs > 0; i++ {
		m, err := st.GetMsg(ctx, i)
		if err != nil {
			continue
		}
		if subject != "" && m.Subject != subject {
			continue
		}
		msgs = append(msgs, streamMsg{subj: m.Subject, data: m.Data, evs: msgEvents(t, m.Subject, m.Header, m.Data)})
	}
	return msgs
}

// deliveredSeqs returns the seqs of the events in the stream in the order
// each first arrived, and how many arrived again (a resend after an error
// may cut a run of events into other messages, which JetStream does not
// recognise as repeats; the collector drops them by event id).
func deliveredSeqs(t *testing.T, st jetstream.Stream, subject string) (seqs []uint64, repeats int) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range streamMsgs(t, st, subject) {
		for _, ev := range m.evs {
			if seen[ev.ID] {
				repeats++
				continue
			}
			seen[ev.ID] = true
			seqs = append(seqs, ev.Seq)
		}
	}
	return seqs, repeats
}

// streamSeqs returns the seqs of the events in the stream in stream order,
// failing on an event stored twice.
func streamSeqs(t *testing.T, st jetstream.Stream, subject string) []uint64 {
	t.Helper()
	seqs, repeats := deliveredSeqs(t, st, subject)
	if repeats > 0 {
		t.Fatalf("%d events stored twice", repeats)
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

func TestFullSpoolEmitsLossRecord(t *testing.T) {
	port := freePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	p := newPublisher(t, url, t.TempDir(), func(c *Config) { c.SpoolMaxMiB = 1 })
	defer p.Close()
	f := &fakeAgent{pub: p}
	p.Start(f)
	emitN(f, 20000) // ~ 4 MiB of events into a 1 MiB spool
	waitFor(t, "loss record", 5*time.Second, func() bool { return p.Stats().Dropped > 0 })
	_, st := startServer(t, port, t.TempDir())
	waitFor(t, "spool to drain", 20*time.Second, func() bool { return p.Stats().Depth == 0 })
	dropped := p.Stats().Dropped
	ctx := context.Background()
	info, _ := st.Info(ctx)
	var lossRecords, lossCount, got uint64
	seen, delivered, named := map[string]bool{}, map[uint64]bool{}, map[uint64]int{}
	for i := info.State.FirstSeq; i <= info.State.LastSeq; i++ {
		m, err := st.GetMsg(ctx, i)
		if err != nil || m.Subject != "vigil.leeds.ag-1.events" {
			continue
		}
		for _, ev := range msgEvents(t, m.Subject, m.Header, m.Data) {
			if seen[ev.ID] {
				continue
			}
			seen[ev.ID] = true
			got++
			delivered[ev.Seq] = true
			if ev.Kind != event.KindAgentLoss {
				continue
			}
			if l := ev.Loss; l.Reason != "spool_full" || l.BootID != "boot1" || l.Count != l.ToSeq-l.FromSeq+1 {
				t.Fatalf("loss record %+v: want spool_full of boot1, one count per seq", l)
			}
			lossRecords++
			lossCount += ev.Loss.Count
			for q := ev.Loss.FromSeq; q <= ev.Loss.ToSeq; q++ {
				named[q]++
			}
		}
	}
	// The loss records name the seqs that never arrived, each once
	// (nothing was delivered before the drops: no server yet).
	for q := uint64(1); q <= f.seq; q++ {
		if delivered[q] == (named[q] == 1) || named[q] > 1 {
			t.Fatalf("seq %d: delivered %v, named by loss records %d times", q, delivered[q], named[q])
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
	p.Start(f)
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
	if h.IntervalS != 1 || fmt.Sprint(h.Sensors) != "[process file]" || hb.Seq != 0 || hb.BootID != "boot1" || hb.Site != "leeds" || hb.AgentID != "ag-1" {
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

// A co-hosted server's pid must reach the agent's sensors before the agent
// publishes on a connection: what it publishes makes that server write (its
// stream, its consumers' state), and writes made before the sensors know
// the server come back as events. While Options.Connected runs nothing
// reaches the server, no event, alert or heartbeat, on the first
// connection and after a reconnection.
func TestNothingPublishedBeforeConnectionReported(t *testing.T) {
	port := freePort(t)
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
	waitFor(t, "spool to drain", 20*time.Second, func() bool { return p.Stats().Depth == 0 })

	s.Shutdown()
	s.WaitForShutdown()
	emitN(f, 20)
	alert()
	_, st = startServer(t, port, store)
	hold("reconnection", st)
	waitFor(t, "spool to drain", 20*time.Second, func() bool { return p.Stats().Depth == 0 })
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

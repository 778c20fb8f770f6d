package publish

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigilhq/vigil/agent/publish/spool"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testnats"
	"github.com/vigilhq/vigil/internal/testproc"
)

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

// pollEvery is how often the tests look again at what they wait for.
const pollEvery = 10 * time.Millisecond

// waitDrained waits until p's spool is empty.
func waitDrained(t *testing.T, p *Publisher, wait time.Duration) {
	t.Helper()
	testproc.CheckFor(t, wait, pollEvery, func() error {
		if st := p.Stats(); st.Depth != 0 {
			return fmt.Errorf("%d events still spooled: %+v", st.Depth, st)
		}
		return nil
	})
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

// runServer starts JetStream on port with a VIGIL stream over subjects.
func runServer(t *testing.T, port int, subjects ...string) (jetstream.JetStream, jetstream.Stream, string) {
	t.Helper()
	o := testnats.Options(t)
	o.Port = port
	s, js, st := serveStream(t, o, subjects...)
	return js, st, s.ClientURL()
}

// openStream lets the stream take every subject.
func openStream(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	if _, err := js.UpdateStream(context.Background(), streamConfig("vigil.>")); err != nil {
		t.Fatal(err)
	}
}

func emitAlert(f *fakeAgent) {
	f.Emit(&event.Event{Kind: event.KindAlert, Alert: &event.Alert{Rule: "bulk-export", Severity: "high",
		Summary: "bulk export", Evidence: []string{"boot1-1"}}})
}

func seqsFrom(a, b uint64) []uint64 {
	var s []uint64
	for i := a; i <= b; i++ {
		s = append(s, i)
	}
	return s
}

// subscribeAgent delivers every message the test agent publishes, as the
// server routes it (before any stream).
func subscribeAgent(t *testing.T, url string) <-chan *nats.Msg {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	arrived := make(chan *nats.Msg, 64)
	if _, err := nc.ChanSubscribe("vigil.leeds.ag-1.*", arrived); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return arrived
}

// tailCases runs a test with the records all in the memory tail and with
// most of them read back from the file.
var tailCases = []struct {
	name    string
	tailMax int64
}{{"memory tail", spool.DefaultTailMax}, {"file behind a small tail", 2 << 10}}

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

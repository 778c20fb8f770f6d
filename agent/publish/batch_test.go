package publish

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testnats"
)

// tailLen is how many records the memory tail holds.
func tailLen(s *spool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tail) - s.tailHead
}

func fileReads(s *spool) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fileReads
}

func setTailMax(s *spool, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tailMax = n
}

func payload(i int) []byte { return fmt.Appendf(nil, "%05d-%s", i, strings.Repeat("x", 200)) }

func TestSpoolTailServesAReaderKeepingUpAcrossRotation(t *testing.T) {
	s, err := openSpool(t.TempDir(), 64<<10) // 16 KiB segments
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	var want, got []string
	p := s.start()
	read := func() {
		recs, next, err := s.readBatch(p, 100, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			got = append(got, string(r.data))
		}
		p = next
		s.commit(p)
	}
	for i := range 1000 {
		appendData(t, s, payload(i))
		want = append(want, string(payload(i)))
		if i%7 == 6 {
			read()
		}
	}
	read()
	if !slices.Equal(got, want) {
		t.Fatalf("read %d records, want the %d appended in order", len(got), len(want))
	}
	if last := s.segs[len(s.segs)-1].n; last < 10 {
		t.Fatalf("only %d segments written: the test did not rotate", last)
	}
	if n := fileReads(s); n != 0 {
		t.Fatalf("%d records read back from the file by a reader keeping up", n)
	}
	if n := tailLen(s); n != 0 {
		t.Fatalf("memory tail holds %d records after all were committed", n)
	}
}

func TestSpoolReadsTheFileBehindTheTail(t *testing.T) {
	s, err := openSpool(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	setTailMax(s, 8<<10)
	var want []string
	for i := range 200 {
		appendData(t, s, payload(i))
		want = append(want, string(payload(i)))
	}
	inTail := tailLen(s)
	if inTail == 0 || inTail > 8<<10/200 {
		t.Fatalf("memory tail holds %d records of 200 B within 8 KiB", inTail)
	}
	got, _ := readAll(t, s, s.start())
	if !slices.Equal(got, want) {
		t.Fatalf("read %d records, want the %d appended in order", len(got), len(want))
	}
	if n := fileReads(s); n != uint64(200-inTail) {
		t.Fatalf("%d records read from the file, want %d (the rest from memory)", n, 200-inTail)
	}
}

func TestSpoolTailAfterDropOldest(t *testing.T) {
	s, err := openSpool(t.TempDir(), 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	setTailMax(s, 24<<10) // more than a segment, less than the spool
	from := s.start()
	var want []string
	for i := range 600 {
		appendData(t, s, payload(i))
		want = append(want, string(payload(i)))
	}
	dropped := droppedCount(s.takeDropped())
	if dropped == 0 {
		t.Fatal("nothing dropped from a full spool")
	}
	s.mu.Lock()
	for _, r := range s.tail[s.tailHead:] {
		if r.at.seg < s.segs[0].n {
			t.Errorf("memory tail keeps a record of dropped segment %d", r.at.seg)
		}
	}
	s.mu.Unlock()
	inTail := tailLen(s)
	// A reader left in a dropped segment goes on from the oldest kept.
	got, _ := readAll(t, s, from)
	if !slices.Equal(got, want[dropped:]) {
		t.Fatalf("read %d records, want the %d kept after %d dropped, in order", len(got), 600-dropped, dropped)
	}
	if n := fileReads(s); n != uint64(len(got)-inTail) {
		t.Fatalf("%d records read from the file, want %d", n, len(got)-inTail)
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

func seqsFrom(a, b uint64) []uint64 {
	var s []uint64
	for i := a; i <= b; i++ {
		s = append(s, i)
	}
	return s
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

func TestLingerHoldsEventsNoLongerThanTheLimit(t *testing.T) {
	const linger = 100 * time.Millisecond
	_, st, url := runServer(t, freePort(t), "vigil.>")
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
	waitFor(t, "spool to drain", 5*time.Second, func() bool { return p.Stats().Depth == 0 })
	if seqs := streamSeqs(t, st, ""); !slices.Equal(seqs, []uint64{1, 2, 3, 4, 6, 5}) {
		t.Fatalf("stream order %v, want the alert (6) ahead of event 5", seqs)
	}
}

// tailCases runs a test with the records all in the memory tail and with
// most of them read back from the file.
var tailCases = []struct {
	name    string
	tailMax int64
}{{"memory tail", defaultTailMax}, {"file behind a small tail", 2 << 10}}

func TestServerRestartResendsInOrderFromMemoryOrFile(t *testing.T) {
	for _, tc := range tailCases {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			url := fmt.Sprintf("nats://127.0.0.1:%d", port)
			store := t.TempDir()
			s, _ := startServer(t, port, store)
			p := newPublisher(t, url, t.TempDir(), nil)
			defer p.Close()
			setTailMax(p.sp, tc.tailMax)
			f := &fakeAgent{pub: p}
			emitN(f, 500)
			waitFor(t, "some events acked", 10*time.Second, func() bool { return p.Stats().Acked > 100 })
			s.Shutdown()
			s.WaitForShutdown()
			emitN(f, 500) // while the collector is away
			_, st := startServer(t, port, store)
			waitFor(t, "spool to drain", 30*time.Second, func() bool { return p.Stats().Depth == 0 })
			seqs, _ := deliveredSeqs(t, st, "") // at least once
			checkInOrder(t, seqs, 1000)
			n := fileReads(p.sp)
			if tc.tailMax == defaultTailMax && n != 0 {
				t.Fatalf("%d records read back from the file with all of them in memory", n)
			}
			if tc.tailMax < defaultTailMax && n == 0 {
				t.Fatal("nothing read from the file behind a 2 KiB tail")
			}
		})
	}
}

func TestRefusedPublishBehindAckedOnesIsNoticed(t *testing.T) {
	js, st, url := runServer(t, freePort(t), "vigil.>")
	cfg := streamConfig("vigil.>")
	cfg.MaxMsgSize = 128 << 10
	if _, err := js.UpdateStream(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	// No linger: the sender goes straight to waiting for acks.
	p := newPublisher(t, url, t.TempDir(), func(c *Config) { c.Linger = "0s" })
	defer p.Close()
	f := &fakeAgent{pub: p}
	emitN(f, 10)
	// The newest in the window is refused while the ones before it are
	// acknowledged: the sender hears of it without waiting for a timeout.
	// The big event does not fit in a message with the 10 before it, so it
	// goes in a message of its own.
	f.Emit(&event.Event{Kind: event.KindFileWrite, File: &event.File{Path: "/tmp/" + strings.Repeat("x", event.MaxWireSize-1024), Bytes: 1}})
	start := time.Now()
	waitFor(t, "the refusal noticed", 5*time.Second, func() bool { return p.Stats().Retries > 0 })
	if d := time.Since(start); d >= 2*time.Second {
		t.Fatalf("refusal noticed after %s, only when the ack timeout came", d)
	}
	if d := p.Stats().Depth; d != 1 {
		t.Fatalf("spool depth %d, want the refused event only", d)
	}
	cfg.MaxMsgSize = 0
	if _, err := js.UpdateStream(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "spool to drain", 10*time.Second, func() bool { return p.Stats().Depth == 0 })
	checkInOrder(t, streamSeqs(t, st, ""), 11)
}

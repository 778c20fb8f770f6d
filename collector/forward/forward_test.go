package forward

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/ocsf"
	"github.com/vigilhq/vigil/collector/ocsf/ocsfschema"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testproc"
)

var t0 = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// put stores alert i citing an evidence event, with the event stored
// unless withheld.
func put(t *testing.T, st *store.Store, i int, withhold bool, received time.Time) {
	t.Helper()
	ctx := context.Background()
	tx, err := st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ev := &event.Event{ID: fmt.Sprintf("b-%d", i), Time: t0, Kind: event.KindFileWrite, Site: "leeds", Host: "ws-1", AgentID: "ag-1",
		BootID: "b", Seq: uint64(i), Process: &event.Process{PID: 7, LoginUID: 1013, LoginUser: "ana"}, File: &event.File{Path: "/tmp/x", Bytes: 9}}
	if !withhold {
		body, _ := event.Encode(ev)
		if _, err := tx.PutEvent(ev, body, received); err != nil {
			t.Fatal(err)
		}
	}
	al := &event.Event{ID: fmt.Sprintf("a-%d", i), Time: t0, Kind: event.KindAlert, Site: "leeds", Host: "ws-1", AgentID: "ag-1",
		Process: ev.Process, Alert: &event.Alert{Rule: "r", Severity: event.SeverityHigh, Summary: fmt.Sprint("alert ", i), Tags: []string{"T1005"}, Evidence: []string{ev.ID}}}
	if _, err := tx.PutAlert(al, received); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// recordSink keeps what it was sent and fails as told.
type recordSink struct {
	mu   sync.Mutex
	name string
	got  []string // finding uids
	fail func(uid string, attempt int) error
	seen map[string]int
}

func (s *recordSink) Name() string { return s.name }
func (s *recordSink) Close() error { return nil }
func (s *recordSink) Send(_ context.Context, f *ocsf.DetectionFinding, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]int{}
	}
	s.seen[f.FindingInfo.UID]++
	if s.fail != nil {
		if err := s.fail(f.FindingInfo.UID, s.seen[f.FindingInfo.UID]); err != nil {
			return err
		}
	}
	var check map[string]any
	if json.Unmarshal(body, &check) != nil {
		return fmt.Errorf("%w: body is not JSON", ErrRejected)
	}
	s.got = append(s.got, f.FindingInfo.UID)
	return nil
}

func (s *recordSink) delivered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// run runs a forwarder until the test ends and returns its stop; steps
// counts each output's looks at its alerts.
func run(t *testing.T, opts Options) (stop func(), steps *stepCount) {
	t.Helper()
	if opts.Poll == 0 {
		opts.Poll = 10 * time.Millisecond
	}
	if opts.Retry == 0 {
		opts.Retry = 5 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	fw, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	steps = &stepCount{n: map[string]int{}}
	fw.stepped = steps.add
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { fw.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop, steps
}

type stepCount struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *stepCount) add(output string) { c.mu.Lock(); c.n[output]++; c.mu.Unlock() }

// waitSteps waits until output has looked at its alerts n more times.
func (c *stepCount) waitSteps(t *testing.T, output string, n int) {
	t.Helper()
	c.mu.Lock()
	want := c.n[output] + n
	c.mu.Unlock()
	testproc.CheckFor(t, 10*time.Second, time.Millisecond, func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.n[output] < want {
			return fmt.Errorf("output %s looked %d times, want %d", output, c.n[output], want)
		}
		return nil
	})
}

func waitDelivered(t *testing.T, s *recordSink, want ...string) {
	t.Helper()
	testproc.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if got := s.delivered(); fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("delivered %v, want %v", got, want)
		}
		return nil
	})
}

// Findings go in order, each once, and a failing receiver holds back
// only its own output; one it refuses for good is counted and skipped.
func TestDeliversInOrderThroughFailures(t *testing.T) {
	st := openStore(t)
	flaky := &recordSink{name: "flaky", fail: func(uid string, attempt int) error {
		if uid == "a-2" && attempt < 3 {
			return fmt.Errorf("503")
		}
		if uid == "a-3" {
			return fmt.Errorf("%w: 400", ErrRejected)
		}
		return nil
	}}
	steady := &recordSink{name: "steady"}
	run(t, Options{Store: st, Sinks: []Sink{flaky, steady}, FromStart: true})
	for i := 1; i <= 4; i++ {
		put(t, st, i, false, t0)
	}
	waitDelivered(t, steady, "a-1", "a-2", "a-3", "a-4")
	waitDelivered(t, flaky, "a-1", "a-2", "a-4")
	if flaky.seen["a-2"] != 3 || flaky.seen["a-3"] != 1 {
		t.Errorf("attempts %v: want a-2 three times, a-3 once", flaky.seen)
	}
}

// A restarted forwarder resumes after what each output delivered, and a
// new output starts with the next alert, not the history.
func TestResumesAfterRestart(t *testing.T) {
	st := openStore(t)
	put(t, st, 1, false, t0) // history when the output is first configured
	first := &recordSink{name: "siem"}
	stop, steps := run(t, Options{Store: st, Sinks: []Sink{first}})
	steps.waitSteps(t, "siem", 1)
	put(t, st, 2, false, t0)
	waitDelivered(t, first, "a-2")
	stop()
	put(t, st, 3, false, t0)
	again := &recordSink{name: "siem"}
	newcomer := &recordSink{name: "new"}
	_, steps = run(t, Options{Store: st, Sinks: []Sink{again, newcomer}})
	steps.waitSteps(t, "new", 1)
	put(t, st, 4, false, t0)
	waitDelivered(t, again, "a-3", "a-4")
	waitDelivered(t, newcomer, "a-4")
}

// A finding waits for evidence not stored yet, up to EvidenceWait, then
// goes with what is missing named.
func TestWaitsForEvidence(t *testing.T) {
	st := openStore(t)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := &recordSink{name: "s"}
	_, steps := run(t, Options{Store: st, Sinks: []Sink{s}, FromStart: true, Now: clock, EvidenceWait: time.Minute})
	put(t, st, 1, true, t0)
	steps.waitSteps(t, "s", 3)
	if got := s.delivered(); len(got) != 0 {
		t.Fatalf("delivered %v before its evidence came or the wait ended", got)
	}
	mu.Lock()
	now = t0.Add(2 * time.Minute)
	mu.Unlock()
	waitDelivered(t, s, "a-1")
}

// What every output sends validates against OCSF 1.3.0.
func TestFindingsValidate(t *testing.T) {
	st := openStore(t)
	put(t, st, 1, false, t0)
	fw, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	alerts, _ := st.Alerts(context.Background(), store.AlertFilter{Tail: true})
	f, body, ready, err := fw.render(context.Background(), alerts[0])
	if err != nil || !ready {
		t.Fatalf("render: %v %v", ready, err)
	}
	s, _ := ocsfschema.V130()
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		t.Fatal(err)
	}
	if p := s.Validate(obj); len(p) != 0 || f.FindingInfo.UID != "a-1" {
		t.Errorf("finding %s: %v", f.FindingInfo.UID, p)
	}
}

func TestOutputNamesAreUnique(t *testing.T) {
	if _, err := New(Options{Sinks: []Sink{&recordSink{name: "x"}, &recordSink{name: "x"}}}); err == nil {
		t.Error("two outputs of one name accepted")
	}
}

package ingest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigilhq/vigil/collector/attribute"
	"github.com/vigilhq/vigil/collector/correlate"
	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/collector/metrics"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// perPersonRule is a host rule about a person's customer reads, as the
// default pack's excessive_customer_rows: the collector runs it over the
// statements it attributes.
const perPersonRule = `
threshold "customer_rows" {
  severity = "high"
  when     = kind == "db.query" && (db.side != "server" || attribution.status == "attributed") && contains(db.tables, "customers")
  by       = [person, host]
  sum      = db.rows
  window   = "8h"
  limit    = 2
  summary  = "${person} read ${value} customer rows on ${host}"
}
`

// joinRig is an Ingest over a store in dir, with the rule above and a
// clock the test moves.
type joinRig struct {
	in     *Ingest
	st     *store.Store
	m      *metrics.Metrics
	mu     sync.Mutex
	now    time.Time
	alerts []*event.Event
	seq    map[string]uint64
}

func newJoinRig(t *testing.T, dir string) *joinRig {
	t.Helper()
	rules := t.TempDir()
	writeFile(t, filepath.Join(rules, "rules.hcl"), perPersonRule)
	corr, err := correlate.Load(rules, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &joinRig{st: st, m: metrics.New(nil), now: t0, seq: map[string]uint64{}}
	r.in = New(Options{Store: st, Correlation: corr, Metrics: r.m, Liveness: liveness.New(liveness.Options{}),
		Now:         func() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return r.now },
		OnAlert:     func(al *event.Event) { r.alerts = append(r.alerts, al) },
		Attribution: attribute.Options{Grace: 20 * time.Second}})
	return r
}

func (r *joinRig) advance(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now = r.now.Add(d)
}

// next numbers an event of agent: the database host "db" (site dc) or the
// workstation "ws" (site leeds).
func (r *joinRig) next(agent string, kind event.Kind) *event.Event {
	r.seq[agent]++
	site := map[string]string{"db": "dc", "ws": "leeds"}[agent]
	e := ev(site, agent, r.seq[agent], kind)
	e.Time = r.now
	return e
}

func (r *joinRig) stmt(client string) *event.Event {
	e := r.next("db", event.KindDBQuery)
	e.Process = &event.Process{PID: 900, Comm: "postgres", User: "postgres", LoginUID: event.NoLoginUID}
	e.DB.Side, e.DB.Client, e.DB.Server, e.DB.Tables = "server", client, "10.0.0.5:5432", []string{"customers"}
	return e
}

func (r *joinRig) session(client string) *event.Event {
	e := r.next("ws", event.KindDBSession)
	e.Process = &event.Process{PID: 4242, Comm: "java", User: "nadia", LoginUser: "nadia", LoginUID: 1201}
	e.DB = &event.DB{Engine: "postgresql", Side: "client", Client: client, Server: "10.0.0.5:5432", Encrypted: true}
	return e
}

func (r *joinRig) handle(t *testing.T, evs ...*event.Event) {
	t.Helper()
	var msgs []Msg
	for _, e := range evs {
		msgs = append(msgs, msg(e))
	}
	if err := r.in.Handle(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
}

// stored reads an event back, with the person its stored copy names.
func (r *joinRig) stored(t *testing.T, id string) (*event.Event, string) {
	t.Helper()
	ev, err := r.st.Event(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ev, ev.Person()
}

// A statement of a connection not yet reported is stored at once but runs
// no rules until the client end's report judges it; then its stored copy
// names the person, and the person's rules count it.
func TestStatementsWaitForTheirClientEnd(t *testing.T) {
	r := newJoinRig(t, t.TempDir())
	r.handle(t, r.session("10.0.0.21:40000")) // the workstation is known
	s1, s2, s3 := r.stmt("10.0.0.21:50432"), r.stmt("10.0.0.21:50432"), r.stmt("10.0.0.21:50432")
	r.handle(t, s1, s2, s3)
	if got, _ := r.stored(t, s1.ID); got.Attribution != nil {
		t.Fatalf("stored with attribution %+v before its client end was reported", got.Attribution)
	}
	if len(r.alerts) != 0 {
		t.Fatalf("alerts %v before the statements were judged", r.alerts)
	}
	if held := testutil.ToFloat64(r.m.AttributionHeld); held != 3 {
		t.Fatalf("held gauge %v, want 3", held)
	}

	r.advance(5 * time.Second)
	r.handle(t, r.session("10.0.0.21:50432"))
	for _, s := range []*event.Event{s1, s2, s3} {
		got, person := r.stored(t, s.ID)
		if !got.Attribution.Joined() || person != "nadia" || got.Attribution.Host != "h-ws" {
			t.Fatalf("stored %s attribution %+v person %q, want attributed to nadia on h-ws", s.ID, got.Attribution, person)
		}
	}
	if len(r.alerts) != 1 || r.alerts[0].Alert.Rule != "customer_rows" || r.alerts[0].Person() != "nadia" || r.alerts[0].Host != "h-ws" {
		t.Fatalf("alerts %+v, want one customer_rows about nadia on h-ws", r.alerts)
	}
	d, err := r.st.AlertByID(context.Background(), r.alerts[0].ID)
	if err != nil || d.Person != "nadia" || len(d.Evidence) != 3 || d.Evidence[0].ID != s1.ID {
		t.Fatalf("stored alert %+v (%v), want nadia's with the three statements as evidence", d, err)
	}
	if n := testutil.ToFloat64(r.m.Attributions.WithLabelValues("attributed", "")); n != 3 {
		t.Fatalf("attributions counted %v, want 3", n)
	}
}

// With nothing else arriving, the ticker judges a statement when its grace
// period ends.
func TestHeldStatementsExpireOnTheTicker(t *testing.T) {
	r := newJoinRig(t, t.TempDir())
	r.handle(t, r.session("10.0.0.21:40000"))
	s := r.stmt("10.0.0.21:50999")
	r.handle(t, s)
	r.advance(19 * time.Second)
	if err := r.in.CheckHeld(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.stored(t, s.ID); got.Attribution != nil {
		t.Fatalf("judged before its grace period ended: %+v", got.Attribution)
	}
	r.advance(time.Second)
	if err := r.in.CheckHeld(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, person := r.stored(t, s.ID)
	if a := got.Attribution; a == nil || a.Status != event.AttributionUnjoined || a.Reason != "no_report" || person != "postgres" {
		t.Fatalf("after the grace period, attribution %+v person %q; want unjoined, no_report", a, person)
	}
	if n := testutil.ToFloat64(r.m.Attributions.WithLabelValues("unjoined", "no_report")); n != 1 {
		t.Fatalf("unjoined counted %v, want 1", n)
	}
}

// A batch that judged statements stored earlier and then failed to commit
// does not lose those judgements: they are made again, stored, and the
// rules count each statement once.
func TestJudgementsSurviveAFailedBatch(t *testing.T) {
	r := newJoinRig(t, t.TempDir())
	r.handle(t, r.session("10.0.0.21:40000"))
	s1, s2, s3 := r.stmt("10.0.0.21:50432"), r.stmt("10.0.0.21:50432"), r.stmt("10.0.0.21:50432")
	r.handle(t, s1, s2, s3)

	r.advance(5 * time.Second)
	failed := false
	r.in.beforeCommit = func(lane, int) error {
		if !failed {
			failed = true
			return errInjected
		}
		return nil
	}
	report := msg(r.session("10.0.0.21:50432"))
	if err := r.in.Handle(context.Background(), []Msg{report}); err == nil {
		t.Fatal("the injected commit failure was not returned")
	}
	// Delivered again.
	if err := r.in.Handle(context.Background(), []Msg{report}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*event.Event{s1, s2, s3} {
		if got, person := r.stored(t, s.ID); !got.Attribution.Joined() || person != "nadia" {
			t.Fatalf("stored %s attribution %+v person %q after the failed batch, want attributed to nadia", s.ID, got.Attribution, person)
		}
	}
	if n := testutil.ToFloat64(r.m.Attributions.WithLabelValues("attributed", "")); n != 3 {
		t.Fatalf("attributions counted %v, want 3", n)
	}
	if len(r.alerts) != 1 {
		t.Fatalf("%d alerts, want one", len(r.alerts))
	}
}

package ingest

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/collector/attribute"
	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/collector/metrics"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// Correlator runs correlation rules; *correlate.Engine implements it.
type Correlator interface {
	Process(ev *event.Event) []event.Event
}

// Msg is one message as read from JetStream.
type Msg struct {
	Subject string
	Data    []byte
}

// Options configure an Ingest.
type Options struct {
	Store       *store.Store
	Correlation Correlator // may be nil
	// Route, when set, takes the correlation inputs of each stored batch
	// instead of Correlation (correlate.Router: the collectors owning
	// their groups run the rules); the batch is acknowledged only once it
	// returns nil.
	Route    func(ctx context.Context, inputs []*event.Event) error
	Liveness *liveness.Tracker
	Metrics  *metrics.Metrics
	Logger   *slog.Logger
	// OnAlert is called for each newly stored alert after its batch commits.
	OnAlert func(al *event.Event)
	// GapGrace is how long a gap in an agent's seqs may stay open before
	// it counts as loss (ConfirmGaps). Default 2 minutes.
	GapGrace time.Duration
	// Batch is the most messages stored in one transaction. Default 500.
	Batch int
	Now   func() time.Time
	// Attribution bounds the join of server-side statements with their
	// client ends.
	Attribution attribute.Options
}

// Ingest is the collector's ingest loop.
type Ingest struct {
	o  Options
	mu sync.Mutex // one batch at a time: correlation state follows store order
	// join holds server-side statements until their client end is known;
	// joinSeen is its counters as the metrics last took them.
	join     *attribute.Joiner
	joinSeen attribute.Stats

	// retry is how long a failed batch waits for redelivery.
	retry time.Duration
	// committed gathers what PublishCommitted tells agents.
	committed committedMarks
	// Tests fail batches before or after their commit (a crash before the
	// acks) and follow the lanes with these.
	beforeCommit, afterCommit func(l lane, msgs int) error
}

// New returns an Ingest.
func New(o Options) *Ingest {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.GapGrace == 0 {
		o.GapGrace = 2 * time.Minute
	}
	if o.Liveness == nil {
		o.Liveness = liveness.New(liveness.Options{})
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New(nil)
	}
	return &Ingest{o: o, retry: 5 * time.Second, join: attribute.New(o.Attribution)}
}

// Run stores what the consumers deliver until ctx ends. events carries the
// agents' events; priority, when not nil, carries their alerts and
// heartbeats (bus.PriorityConsumer), so that an alert is stored, and an
// agent's liveness judged, without waiting behind an event backlog. With
// priority nil, events carries every class in stream order.
//
// With two consumers the store order is no longer the stream order: an
// alert is stored, and seen by the correlation rules, before the events
// queued ahead of it (its evidence links resolve when they arrive), and
// heartbeats are judged ahead of queued events. Each agent's seq is still
// tracked in stream order by the events lane, which reads the alerts'
// numbers without storing them, so an alert stored early is no gap.
func (in *Ingest) Run(ctx context.Context, events, priority jetstream.Consumer) error {
	if priority == nil {
		in.runLane(ctx, events, laneAll)
		return nil
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		in.runLane(ctx, priority, lanePriority)
	}()
	in.runLane(ctx, events, laneEvents)
	wg.Wait()
	return nil
}

// lane is which classes a consumer's messages are handled for.
type lane int

const (
	// laneAll handles every class: one consumer (and Handle).
	laneAll lane = iota
	// laneEvents stores events; alerts only advance their agent's seq (the
	// priority lane stores them) and heartbeats are left to the priority lane.
	laneEvents
	// lanePriority stores alerts and judges heartbeats.
	lanePriority
)

func (l lane) String() string {
	return [...]string{"all", "events", "priority"}[l]
}

// runLane stores what cons delivers until ctx ends. Fetching runs ahead
// of storing: while one batch is stored the next gathers, up to Batch
// messages, and is handed over as soon as the store is free, so an idle
// lane stores a message as soon as it comes and a busy one in full batches.
func (in *Ingest) runLane(ctx context.Context, cons jetstream.Consumer, l lane) {
	batches := make(chan []jetstream.Msg)
	ready := make(chan fetched)
	go in.fetch(ctx, cons, l, batches)
	go decodeStage(batches, ready)
	for f := range ready {
		msgs := f.msgs
		if err := in.handle(ctx, f.decs, l); err != nil {
			// Not acknowledged: JetStream redelivers, and the store
			// drops what was stored.
			in.o.Metrics.StoreErrors.Inc()
			in.o.Logger.Error("storing batch; it will be redelivered", "err", err, "messages", len(msgs), "lane", l)
			for _, m := range msgs {
				_ = m.NakWithDelay(in.retry) // unacknowledged, it comes back after AckWait anyway
			}
			sleep(ctx, in.retry/5)
			continue
		}
		for _, m := range msgs {
			if err := m.Ack(); err != nil {
				in.o.Logger.Debug("ack", "err", err)
			}
		}
	}
}

// fetch pulls from cons and hands batches to out, which it closes when ctx
// ends.
func (in *Ingest) fetch(ctx context.Context, cons jetstream.Consumer, l lane, out chan<- []jetstream.Msg) {
	defer close(out)
	var pending []jetstream.Msg
	var msgs <-chan jetstream.Msg // the open pull request's messages; nil when none is open
	var req jetstream.MessageBatch
	for {
		if msgs == nil && len(pending) < in.o.Batch {
			var err error
			req, err = cons.Fetch(in.o.Batch-len(pending), jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				in.o.Logger.Warn("fetching from JetStream", "err", err, "lane", l)
				if len(pending) == 0 {
					sleep(ctx, time.Second)
					continue
				}
			} else {
				msgs = req.Messages()
			}
		}
		var send chan<- []jetstream.Msg
		if len(pending) > 0 {
			send = out
		}
		recv := msgs
		if len(pending) >= in.o.Batch {
			recv = nil
		}
		select {
		case <-ctx.Done():
			return
		case send <- pending:
			pending = nil
		case m, ok := <-recv:
			if !ok {
				if err := req.Error(); err != nil && !errors.Is(err, jetstream.ErrNoHeartbeat) && ctx.Err() == nil {
					in.o.Logger.Debug("fetch ended", "err", err, "lane", l)
				}
				msgs = nil
				continue
			}
			pending = append(pending, m)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Handle stores one batch of messages of every class in one transaction.
// It returns an error only when the store fails; bad messages are counted
// and skipped.
func (in *Ingest) Handle(ctx context.Context, msgs []Msg) error {
	return in.handle(ctx, decodeAll(msgs), laneAll)
}

func (in *Ingest) handle(ctx context.Context, msgs []decoded, l lane) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	start := time.Now()
	now := in.o.Now().UTC()
	tx, err := in.o.Store.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	m := in.o.Metrics
	b := newBatch(tx, now, l)
	defer in.keepJudgements(b)
	if l != lanePriority {
		// Statements whose grace period ended go ahead of what arrived
		// after them.
		if err := in.expireHeld(b); err != nil {
			return err
		}
	}
	for _, whole := range msgs {
		if l == laneEvents && whole.subjErr == nil && whole.class != event.ClassEvents {
			// The priority lane stores and counts these.
			if whole.class == event.ClassAlerts && len(whole.lines) == 1 {
				if err := in.trackAlertSeq(b, whole.lines[0], whole.site, whole.agentID); err != nil {
					return err
				}
			}
			continue
		}
		if whole.oversized {
			b.results["oversized"]++
			in.o.Logger.Warn("oversized message skipped", "subject", whole.Subject, "bytes", len(whole.Data))
			continue
		}
		// Each event of a batch is checked, counted and stored on its own.
		for _, ln := range whole.lines {
			if whole.subjErr != nil {
				b.results["malformed"]++
				in.o.Logger.Warn("message on an unknown subject skipped", "subject", whole.Subject)
				continue
			}
			if err := in.handleEvent(b, Msg{Subject: whole.Subject, Data: ln.data}, ln, whole.site, whole.agentID, whole.class); err != nil {
				return err
			}
		}
	}
	if in.beforeCommit != nil {
		if err := in.beforeCommit(l, len(msgs)); err != nil {
			return err
		}
	}
	if err := b.commit(); err != nil {
		return err
	}
	in.noteCommitted(b.tx, msgs, l)
	if err := in.route(ctx, b); err != nil {
		return err
	}
	for res, n := range b.results {
		m.Messages.WithLabelValues(res).Add(float64(n))
	}
	for reason, n := range b.lost {
		m.Lost.WithLabelValues(reason).Add(n)
	}
	in.countAttribution(b)
	m.BatchSeconds.Observe(time.Since(start).Seconds())
	if in.afterCommit != nil {
		if err := in.afterCommit(l, len(msgs)); err != nil {
			return err
		}
	}
	in.announce(b.alerts)
	return nil
}

// announce counts and hands on alerts once their transaction committed.
func (in *Ingest) announce(alerts []storedAlert) {
	for _, a := range alerts {
		in.o.Metrics.Alerts.WithLabelValues(a.ev.Alert.Rule, a.ev.Alert.Severity, a.source).Inc()
		if in.o.OnAlert != nil {
			in.o.OnAlert(a.ev)
		}
	}
}

// batch is what handle gathers while storing one batch; results, lost and
// alerts are counted and announced when it commits (a failed batch comes
// back).
type batch struct {
	tx      *store.Tx
	now     time.Time
	lane    lane
	results map[string]int
	lost    map[string]float64
	alerts  []storedAlert
	// attributed counts the statements judged, by status and reason;
	// judged are those statements, handed back to the join if the batch
	// does not commit.
	attributed map[[2]string]int
	judged     []*event.Event
	committed  bool
	// routed are the correlation inputs for Options.Route.
	routed []*event.Event
}

func (b *batch) commit() error {
	if err := b.tx.Commit(); err != nil {
		return err
	}
	b.committed = true
	return nil
}

func newBatch(tx *store.Tx, now time.Time, l lane) *batch {
	return &batch{tx: tx, now: now, lane: l, results: map[string]int{}, lost: map[string]float64{},
		attributed: map[[2]string]int{}}
}

type storedAlert struct {
	ev     *event.Event
	source string
}

func (b *batch) putAlert(al *event.Event, source string) error {
	ok, err := b.tx.PutAlert(al, b.now)
	if ok {
		b.alerts = append(b.alerts, storedAlert{al, source})
	}
	return err
}

// handleEvent checks, counts and stores one event of a message whose
// subject parsed as site, agentID and class; ln is the event as decoded.
func (in *Ingest) handleEvent(b *batch, msg Msg, ln line, site, agentID, class string) error {
	tx, now := b.tx, b.now
	ev, err := ln.ev, ln.err
	if err != nil {
		b.results["malformed"]++
		in.o.Logger.Warn("malformed message skipped", "subject", msg.Subject, "err", err)
		return nil
	}
	if ev.Site != site || ev.AgentID != agentID {
		// The subject is what NATS let this sender publish to; the
		// payload claims someone else.
		b.results["rejected"]++
		in.o.Logger.Warn("event claiming another agent rejected", "subject", msg.Subject, "claims_site", ev.Site, "claims_agent", ev.AgentID)
		if al := in.o.Liveness.Identity(site, agentID, ev, now); al != nil {
			return b.putAlert(al, "liveness")
		}
		return nil
	}
	if class != event.ClassOf(ev.Kind) {
		b.results["malformed"]++
		in.o.Logger.Warn("event on the wrong subject skipped", "subject", msg.Subject, "kind", ev.Kind)
		return nil
	}
	if ok, err := in.ownNumber(b, msg, ev); !ok || err != nil {
		return err
	}
	if err := tx.SeenAgent(ev, now); err != nil {
		return err
	}
	if ev.Kind == event.KindHeartbeat {
		b.results["heartbeat"]++
		raised := in.o.Liveness.Heartbeat(ev, now)
		if len(raised) > 0 {
			// Keep the heartbeat the alerts cite as evidence.
			if _, err := tx.PutEvent(ev, msg.Data, now); err != nil {
				return err
			}
		}
		for _, al := range raised {
			if err := b.putAlert(al, "liveness"); err != nil {
				return err
			}
		}
		return nil
	}
	inserted, err := tx.PutEvent(ev, msg.Data, now)
	if err != nil {
		return err
	}
	if !inserted {
		b.results["duplicate"]++
		in.reroute(b, ev)
		return nil
	}
	b.results["stored"]++
	if b.lane != lanePriority {
		if err := in.trackSeq(b, ev); err != nil {
			return err
		}
	}
	switch ev.Kind {
	case event.KindAgentLoss:
		if err := in.putLoss(b, ev); err != nil {
			return err
		}
	case event.KindAlert:
		if err := b.putAlert(ev, "host"); err != nil {
			return err
		}
	}
	return in.attribute(b, ev)
}

// EventsOf splits a message into its events. A message on an events subject
// may carry several, one JSON object per line (the agent batches them, see
// docs/events.md); alerts and heartbeats are one per message. A line that
// is not an event (an empty one included) is counted as malformed like any
// other bad message. The events are yielded in order, without gathering
// them: this runs for every message. A message without a newline is its
// one line.
func EventsOf(m Msg) iter.Seq[Msg] {
	return func(yield func(Msg) bool) {
		if !strings.HasSuffix(m.Subject, "."+event.ClassEvents) {
			yield(m)
			return
		}
		for line := range bytes.SplitSeq(m.Data, []byte{'\n'}) {
			if !yield(Msg{Subject: m.Subject, Data: line}) {
				return
			}
		}
	}
}

func (in *Ingest) trackSeq(b *batch, ev *event.Event) error {
	gap, err := b.tx.TrackSeq(ev, b.now)
	if err != nil {
		return err
	}
	in.noteGap(gap)
	return nil
}

// noteGap notes a gap found in an agent's seqs (nil: none). It is only
// suspected: the events are most often late, and ConfirmGaps counts it as
// loss when it has stayed open.
func (in *Ingest) noteGap(gap *store.Loss) {
	if gap != nil {
		in.o.Logger.Debug("gap in agent events, pending", "agent_id", gap.AgentID, "boot_id", gap.BootID, "from", gap.FromSeq, "to", gap.ToSeq)
	}
}

// putLoss records an agent.loss. One that names the seqs the lost events
// had explains the gaps they left (each missing seq counted once, see
// store.ExplainLoss); the metric then counts what it explained under its
// reason, though the gap's seqs were counted as seq_gap when found.
func (in *Ingest) putLoss(b *batch, ev *event.Event) error {
	l := ev.Loss
	rec := store.Loss{Time: ev.Time, Site: ev.Site, Host: ev.Host, AgentID: ev.AgentID, BootID: ev.BootID,
		Reason: l.Reason, Sensor: l.Sensor, Count: l.Count}
	if l.ToSeq == 0 {
		b.lost[l.Reason] += float64(l.Count)
		return b.tx.AddLoss(rec)
	}
	rec.BootID, rec.FromSeq, rec.ToSeq = l.BootID, l.FromSeq, l.ToSeq
	explained, gap, err := b.tx.ExplainLoss(rec, b.now)
	if err != nil {
		return err
	}
	b.lost[l.Reason] += float64(explained)
	in.noteGap(gap)
	return nil
}

// trackAlertSeq advances the seq of an alert's agent in the events lane,
// in stream order, whether or not the priority lane stored it yet: alerts
// are numbered with the agent's events. The message's subject parsed as
// site and agentID; ln is its one event as decoded. What the priority lane
// would refuse is skipped here without counting.
func (in *Ingest) trackAlertSeq(b *batch, ln line, site, agentID string) error {
	ev, err := ln.ev, ln.err
	if err != nil || ev.Site != site || ev.AgentID != agentID || ev.Kind != event.KindAlert {
		return nil
	}
	return in.trackSeq(b, ev)
}

// CheckLiveness stores alerts for agents gone silent.
func (in *Ingest) CheckLiveness(ctx context.Context) error {
	raised := in.o.Liveness.Check(in.o.Now().UTC())
	if len(raised) == 0 {
		return nil
	}
	return in.storeAlerts(ctx, raised, "liveness")
}

// storeAlerts stores alerts the collector raised itself (source says
// which part) in one transaction, and hands on those not stored before.
func (in *Ingest) storeAlerts(ctx context.Context, alerts []*event.Event, source string) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	tx, err := in.o.Store.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	b := newBatch(tx, in.o.Now().UTC(), lanePriority)
	for _, al := range alerts {
		if err := b.putAlert(al, source); err != nil {
			return err
		}
	}
	if err := b.commit(); err != nil {
		return err
	}
	in.announce(b.alerts)
	return nil
}

// WatchLiveness checks for silent agents every interval until ctx ends.
func (in *Ingest) WatchLiveness(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := in.CheckLiveness(ctx); err != nil {
				in.o.Logger.Error("storing liveness alerts", "err", err)
			}
		}
	}
}

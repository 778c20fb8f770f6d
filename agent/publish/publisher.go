package publish

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigilhq/vigil/agent/publish/spool"
	"github.com/vigilhq/vigil/event"
)

// Source is the agent the publisher sends for: heartbeats carry what it
// says of itself, and spool loss is emitted through it so the loss record
// gets a sequence number like any event. *agent.Agent implements it.
type Source interface {
	BootID() string
	// Heartbeat describes the source for a heartbeat sent every
	// interval; 0 says it is stopping.
	Heartbeat(interval time.Duration) *event.Heartbeat
	Emit(ev *event.Event)
}

// Options configure a Publisher beyond agent.hcl.
type Options struct {
	Site, Host, AgentID string
	Logger              *slog.Logger
	// DrainTimeout bounds how long Close waits for the spool to empty.
	// Zero: 5 s.
	DrainTimeout time.Duration
	// AckTimeout is how long a publish may wait for JetStream's ack before
	// it is retried. Zero: 10 s.
	AckTimeout time.Duration
	// Connected, if set, is called with the server's address ("ip:port")
	// each time the connection is made or made again, and with "" each
	// time it is lost. Nothing is published on a connection before it
	// returns.
	Connected func(serverAddr string)
	// CommitTimeout is how long an acknowledged event may wait for the
	// collector to confirm it stored it before the sender resends (or,
	// when the collector publishes no confirmations, stops waiting for
	// them). Zero: DefaultCommitTimeout.
	CommitTimeout time.Duration
	// NATSOptions are appended to the connection options (tests).
	NATSOptions []nats.Option
}

// Stats are the publisher's counters.
type Stats struct {
	Spooled uint64 // events written to the spool
	Acked   uint64 // events JetStream acknowledged in order (duplicates included)
	// Unconfirmed counts records acknowledged but not yet confirmed
	// stored by the collector: kept in the spool, resent if the server
	// lost them.
	Unconfirmed uint64
	// UnconfirmedDropped counts such records a full spool dropped: not
	// lost unless the server lost them too, which the collector then
	// reports as a gap in the agent's seqs.
	UnconfirmedDropped uint64
	// Rewinds counts resends from the first unconfirmed record (after a
	// reconnection, or watermarks stalled behind the acks).
	Rewinds uint64
	// CommitFallback says the collector sent no watermark in time, so
	// records leave the spool at JetStream's ack.
	CommitFallback bool
	Retries        uint64 // times the in-flight window was resent after an error
	Dropped        uint64 // events dropped from a full spool (loss records included)
	Depth          uint64 // events waiting in the spool
	Heartbeats     uint64
	Connected      bool
}

// Publisher is an agent.Sink and agent.Spooler that delivers through the
// spool to JetStream.
type Publisher struct {
	cfg  Config
	opts Options
	log  *slog.Logger
	sp   *spool.Spool
	nc   *nats.Conn
	js   jetstream.JetStream

	wake    chan struct{} // records to send or a reconnect: the sender looks again
	urgent  chan struct{} // an alert for the fast lane
	pubErr  chan struct{} // some publish failed
	stop    chan struct{}
	stopped chan struct{}
	loops   sync.WaitGroup
	// beatStop ends the heartbeat loop, and beating waits for it, before
	// the farewell heartbeat: no regular beat may follow the farewell.
	beatStop chan struct{}
	beating  sync.WaitGroup

	mu     sync.Mutex
	src    Source
	bootID string // of src, or the publisher's own when it has none
	closed bool

	spooled, acked, retries, beats atomic.Uint64
	rewinds                        atomic.Uint64
	// reconnects counts reconnections: the sender resends from the
	// first unconfirmed record after each, since a server that restarted
	// may have lost what it acknowledged.
	reconnects atomic.Uint64

	markMu        sync.Mutex
	marks         watermarks
	marked        chan struct{} // a watermark came
	commitTimeout time.Duration
	// unconfirmedDropped is the spool's count as reportLoss last logged it.
	unconfirmedDropped atomic.Uint64
	lossSeq            atomic.Uint64

	// firstReported says the first connection went to Options.Connected,
	// from connect or from the connect handler, whichever came first.
	firstReported atomic.Bool
	// reported says the current connection has been told to
	// Options.Connected. Nothing is published before: what the agent
	// publishes makes a co-hosted server write, and the sensors must know
	// that server's process by then, or its writes come back as events.
	reported atomic.Bool

	linger                 time.Duration
	subjEvents, subjAlerts string
	pubOpts                []jetstream.PublishOpt
	// idle says the sender waits for records, so an append wakes it; while
	// it lingers or waits for acks appends leave it be.
	idle atomic.Bool
	// pending counts bytes appended since the sender last caught up; a
	// write's worth wakes a lingering sender early.
	pending atomic.Int64

	// paced says the source calls Drained: the sender and the spool flush
	// then go on the source's wakeups instead of timers of their own.
	// epoch is the zero of lastPace and lastFlush, nanoseconds after it
	// when Drained last woke the sender and when the spool was last
	// flushed.
	paced               atomic.Bool
	epoch               time.Time
	lastPace, lastFlush atomic.Int64

	alertMu sync.Mutex
	alerts  []spool.Record // spooled alerts for the sender to publish at once
}

const (
	// batchBytes appended while the sender lingers make it send at once.
	batchBytes = 64 << 10
	// alertSlack is how many fast-lane alerts (and heartbeats) may await
	// their acks beyond the window.
	alertSlack = 64
	// A message on the events subject carries a run of consecutive events
	// records, their JSON joined by '\n': at most maxMsgBytes of body (an
	// event alone may be up to event.MaxWireSize, which is no more) and
	// maxMsgEvents events. Its Nats-Msg-Id is the first event's id, with
	// "+<n>" appended when it carries n > 1. Alerts and heartbeats go one
	// to a message.
	maxMsgBytes  = 256 << 10
	maxMsgEvents = 512
	// readChunk is how many records the sender reads from the spool at a
	// time.
	readChunk = 256
)

// New opens the spool and starts connecting and publishing in the
// background; the collector need not be reachable.
func New(cfg *Config, opts Options) (*Publisher, error) {
	if !event.ValidToken(opts.Site) || !event.ValidToken(opts.AgentID) {
		return nil, fmt.Errorf("site %q and agent id %q must be letters, digits, '-' or '_' to publish", opts.Site, opts.AgentID)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = 5 * time.Second
	}
	if opts.AckTimeout == 0 {
		opts.AckTimeout = 10 * time.Second
	}
	if opts.CommitTimeout == 0 {
		opts.CommitTimeout = DefaultCommitTimeout
	}
	c := *cfg
	if c.SpoolMaxMiB <= 0 {
		c.SpoolMaxMiB = DefaultSpoolMaxMiB
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.HeartbeatEvery <= 0 {
		c.HeartbeatEvery = DefaultHeartbeat
	}
	linger, err := lingerOf(c.Linger)
	if err != nil {
		return nil, err
	}
	sp, err := spool.Open(c.SpoolDir, c.SpoolMaxMiB<<20)
	if err != nil {
		return nil, err
	}
	p := &Publisher{cfg: c, opts: opts, log: opts.Logger, sp: sp, wake: make(chan struct{}, 1),
		urgent: make(chan struct{}, 1), pubErr: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}), beatStop: make(chan struct{}), bootID: event.NewBootID(),
		linger: linger, epoch: time.Now(), marked: make(chan struct{}, 1), commitTimeout: opts.CommitTimeout,
		subjEvents: event.Subject(opts.Site, opts.AgentID, event.ClassEvents),
		subjAlerts: event.Subject(opts.Site, opts.AgentID, event.ClassAlerts),
		// No retry on "no responders" inside nats.go: a retry sent later
		// would land out of order. The sender resends from the spool.
		pubOpts: []jetstream.PublishOpt{jetstream.WithRetryAttempts(0)}}
	if err := p.connect(); err != nil {
		sp.Close()
		return nil, err
	}
	go p.send()
	p.loops.Add(1)
	go p.flusher()
	return p, nil
}

// Publish implements agent.Sink: the event is in the spool when it returns.
// Alerts are also handed to the sender to publish at once, ahead of any
// backlog; their spooled copy is resent in order if that publish fails.
func (p *Publisher) Publish(ev *event.Event) error {
	// Encode returns a new slice: the spool's memory tail and the sender
	// keep it without a copy.
	data, err := event.Encode(ev)
	if err != nil {
		return err
	}
	class := event.ClassOf(ev.Kind)
	r := spool.Record{Subject: p.subject(class), ID: ev.ID, Data: data}
	var loss *spool.Drop
	if l := ev.Loss; ev.Kind == event.KindAgentLoss && l != nil && l.Reason == ReasonSpoolFull {
		loss = &spool.Drop{Boot: l.BootID, From: l.FromSeq, To: l.ToSeq, Count: l.Count}
	}
	if err := p.sp.Append(r, ev.BootID, ev.Seq, loss); err != nil {
		return fmt.Errorf("spooling event %s: %w", ev.ID, err)
	}
	p.spooled.Add(1)
	if class == event.ClassAlerts {
		p.alertMu.Lock()
		if len(p.alerts) >= 4*alertSlack { // the sender is stuck: the spool has them
			p.alerts = p.alerts[1:]
		}
		p.alerts = append(p.alerts, r)
		p.alertMu.Unlock()
		select {
		case p.urgent <- struct{}{}:
		default:
		}
	}
	size := r.MemSize()
	if n := p.pending.Add(size); n >= batchBytes && n-size < batchBytes || !p.paced.Load() && p.idle.Load() && p.idle.CompareAndSwap(true, false) {
		p.poke()
	}
	return nil
}

func (p *Publisher) subject(class string) string {
	switch class {
	case event.ClassEvents:
		return p.subjEvents
	case event.ClassAlerts:
		return p.subjAlerts
	}
	return event.Subject(p.opts.Site, p.opts.AgentID, class)
}

// Stats returns the publisher's counters.
func (p *Publisher) Stats() Stats {
	p.markMu.Lock()
	fallback := p.marks.fallback
	p.markMu.Unlock()
	return Stats{Spooled: p.spooled.Load(), Acked: p.acked.Load(), Retries: p.retries.Load(),
		Dropped: p.sp.Lost(), Depth: p.sp.Depth(), Heartbeats: p.beats.Load(), Connected: p.nc.IsConnected(),
		Unconfirmed: p.sp.Unconfirmed(), UnconfirmedDropped: p.sp.UnconfirmedDropped(), Rewinds: p.rewinds.Load(),
		CommitFallback: fallback}
}

// Spool says how many events wait in the spool and how many a full spool
// dropped since start.
func (p *Publisher) Spool() (depth, dropped uint64) { return p.sp.Depth(), p.sp.Lost() }

// Drain waits until the spool is empty or ctx ends.
func (p *Publisher) Drain(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for p.sp.Depth() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d events still spooled: %w", p.sp.Depth(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Close sends a last heartbeat saying the agent stops, waits up to
// DrainTimeout for the spool to empty and closes. What is left stays in the
// spool for the next start.
func (p *Publisher) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	// The source calls Drained no more: the sender lingers on its own
	// timer again, and is woken for what is already waiting.
	p.paced.Store(false)
	p.poke()
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.DrainTimeout)
	defer cancel()
	if err := p.Drain(ctx); err != nil {
		p.log.Warn("closing with events left in the spool; they are sent on the next start", "err", err)
	}
	close(p.beatStop)
	p.beating.Wait()
	var n uint64 = 1 << 62 // a distinct id for the farewell heartbeat
	p.heartbeat(&n, 0)
	// The farewell gets its own wait: a drain that used up its time must
	// not leave it unsent, or the collector takes a clean stop for a kill.
	farewell, cancelFarewell := context.WithTimeout(context.Background(), p.opts.DrainTimeout)
	defer cancelFarewell()
	select {
	case <-p.js.PublishAsyncComplete():
	case <-farewell.Done():
	}
	close(p.stop)
	<-p.stopped
	p.loops.Wait()
	p.nc.Close()
	return p.sp.Close()
}

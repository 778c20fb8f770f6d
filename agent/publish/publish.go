package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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
	// NATSOptions are appended to the connection options (tests).
	NATSOptions []nats.Option
}

// Stats are the publisher's counters.
type Stats struct {
	Spooled    uint64 // events written to the spool
	Acked      uint64 // events JetStream acknowledged in order (duplicates included)
	Retries    uint64 // times the in-flight window was resent after an error
	Dropped    uint64 // events dropped from a full spool (loss records included)
	Depth      uint64 // events waiting in the spool
	Heartbeats uint64
	Connected  bool
}

// Publisher is an agent.Sink and agent.Spooler that delivers through the
// spool to JetStream.
type Publisher struct {
	cfg  Config
	opts Options
	log  *slog.Logger
	sp   *spool
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
	lossSeq                        atomic.Uint64

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
	alerts  []record // spooled alerts for the sender to publish at once
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
	sp, err := openSpool(c.SpoolDir, c.SpoolMaxMiB<<20)
	if err != nil {
		return nil, err
	}
	p := &Publisher{cfg: c, opts: opts, log: opts.Logger, sp: sp, wake: make(chan struct{}, 1),
		urgent: make(chan struct{}, 1), pubErr: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}), beatStop: make(chan struct{}), bootID: event.NewBootID(),
		linger: linger, epoch: time.Now(),
		subjEvents: event.Subject(opts.Site, opts.AgentID, event.ClassEvents),
		subjAlerts: event.Subject(opts.Site, opts.AgentID, event.ClassAlerts),
		// No retry on "no responders" inside nats.go: a retry sent later
		// would land out of order. The sender resends from the spool.
		pubOpts: []jetstream.PublishOpt{jetstream.WithRetryAttempts(0)}}
	if err := p.connect(); err != nil {
		sp.close()
		return nil, err
	}
	go p.send()
	p.loops.Add(1)
	go p.flusher()
	return p, nil
}

// InboxPrefix is where an agent's JetStream acks arrive; its permissions
// allow subscribing there and nowhere else.
func InboxPrefix(agentID string) string { return "_INBOX." + agentID }

// connected tells Options.Connected where nc is connected, then lets the
// sender and the heartbeat publish on the connection.
func (p *Publisher) connected(nc *nats.Conn) {
	if p.opts.Connected != nil {
		if addr := nc.ConnectedAddr(); addr != "" {
			p.opts.Connected(addr)
		}
	}
	p.reported.Store(true)
	p.poke()
}

// online says the publisher may publish: connected, and the connection
// reported.
func (p *Publisher) online() bool { return p.reported.Load() && p.nc.IsConnected() }

func (p *Publisher) connect() error {
	c := p.cfg
	o := []nats.Option{
		nats.Name("vigil-agent " + p.opts.AgentID),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(500*time.Millisecond, time.Second),
		// Without a reconnect buffer a publish during an outage fails at
		// once and the sender waits; the spool is the buffer.
		nats.ReconnectBufSize(-1),
		nats.CustomInboxPrefix(InboxPrefix(p.opts.AgentID)),
		nats.ConnectHandler(func(nc *nats.Conn) {
			p.log.Info("connected to collector", "url", c.URL)
			if p.firstReported.CompareAndSwap(false, true) {
				p.connected(nc)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			p.log.Info("reconnected to collector")
			p.connected(nc)
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				p.log.Warn("disconnected from collector; spooling", "err", err)
			}
			p.reported.Store(false)
			if p.opts.Connected != nil {
				p.opts.Connected("")
			}
		}),
	}
	if c.Identity != nil {
		kp, err := c.Identity.KeyPair()
		if err != nil {
			return err
		}
		pub, _ := kp.PublicKey()
		o = append(o, nats.Nkey(pub, kp.Sign))
	}
	if c.TLSCA != "" {
		o = append(o, nats.RootCAs(c.TLSCA))
	}
	if c.TLSCert != "" || c.TLSKey != "" {
		o = append(o, nats.ClientCert(c.TLSCert, c.TLSKey))
	}
	o = append(o, p.opts.NATSOptions...)
	nc, err := nats.Connect(c.URL, o...)
	if err != nil {
		return fmt.Errorf("connecting to collector %s: %w", c.URL, err)
	}
	// Reported before New returns (unless the connect handler, run
	// meanwhile, has), so that the agent's sensors know the server before
	// they attach.
	if nc.IsConnected() && p.firstReported.CompareAndSwap(false, true) {
		p.connected(nc)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(c.MaxInFlight+alertSlack),
		jetstream.WithPublishAsyncTimeout(p.opts.AckTimeout),
		// The sender waits on one ack of many; any failure wakes it too.
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) {
			select {
			case p.pubErr <- struct{}{}:
			default:
			}
		}))
	if err != nil {
		nc.Close()
		return fmt.Errorf("connecting to collector %s: %w", c.URL, err)
	}
	p.nc, p.js = nc, js
	return nil
}

func (p *Publisher) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
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
	r := record{subj: p.subject(class), id: ev.ID, data: data}
	var loss *dropRange
	if l := ev.Loss; ev.Kind == event.KindAgentLoss && l != nil && l.Reason == ReasonSpoolFull {
		loss = &dropRange{boot: l.BootID, from: l.FromSeq, to: l.ToSeq, count: l.Count}
	}
	if err := p.sp.append(r, ev.BootID, ev.Seq, loss); err != nil {
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
	size := r.memSize()
	if n := p.pending.Add(size); n >= batchBytes && n-size < batchBytes || !p.paced.Load() && p.idle.Load() && p.idle.CompareAndSwap(true, false) {
		p.poke()
	}
	return nil
}

// Drained is called by a source that has handed over everything it has
// for now, before it sleeps: the agent calls it each time its reader finds
// the ring buffer empty. From the first call on, the publisher is paced by
// it: the sender goes when Drained finds events waiting and at least the
// linger has passed since it last woke the sender, and the spool is
// flushed here when the last flush is flushEvery old, so neither needs a
// timer of its own. At 1,000 events/s that is one wakeup of the process
// per reader wakeup instead of three (the reader's, the sender's linger
// and the flusher's), and each wakeup from idle is what costs at such a
// rate. A 64 KiB batch and an alert still wake the sender at once, and
// the flusher's slower tick covers a source that stops calling.
func (p *Publisher) Drained() {
	p.paced.Store(true)
	now := p.since()
	if now-p.lastFlush.Load() >= int64(flushEvery) {
		p.flush(now)
	}
	p.pace(now, p.linger)
}

// since is the time since p.epoch in nanoseconds.
func (p *Publisher) since() int64 { return int64(time.Since(p.epoch)) }

// pace wakes the sender if events are waiting and it was last woken by
// pace at least gap ago.
func (p *Publisher) pace(now int64, gap time.Duration) {
	if p.pending.Load() > 0 && now-p.lastPace.Load() >= int64(gap) {
		p.lastPace.Store(now)
		p.poke()
	}
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

// inflight is one message in the window.
type inflight struct {
	next pos                    // just after its last record
	paf  jetstream.PubAckFuture // nil: the fast lane had it acknowledged
	n    int                    // events it carries
	ok   bool                   // acknowledged
}

type fastState uint8

const (
	fastPending fastState = iota
	fastAcked
	fastFailed
)

// fastAlert is an alert published ahead of the spool order.
type fastAlert struct {
	id      string
	paf     jetstream.PubAckFuture
	state   fastState
	reached bool // the in-order send has come to it
}

// sender is the state of the send goroutine.
type sender struct {
	p        *Publisher
	rpos     pos // next record to send
	window   []inflight
	recs     []spoolRec
	fast     []fastAlert
	alerts   []record
	lastSend time.Time
	behind   bool // the last read filled the window: do not linger
	due      bool // woken to send (paced: by Drained or a batch's worth)
	timer    *time.Timer

	// The events message being filled: body, how many events it holds,
	// the first one's id and where its last record ends.
	body      []byte
	bodyN     int
	bodyFirst string
	bodyNext  pos
}

// send publishes the spool in order with at most MaxInFlight unacknowledged
// messages, runs of events several to a message, committing the spool as
// acks arrive. On any error it waits for outstanding acks to settle and
// resends from the first unacknowledged record: JetStream drops the repeats
// by Nats-Msg-Id, the collector by event id (a resent run may be cut into
// messages differently).
//
// When it keeps up, the sender lingers up to Config.Linger after a send
// before the next, so one wakeup and one write carry every event appended
// meanwhile. Alerts go at once.
func (p *Publisher) send() {
	defer close(p.stopped)
	s := &sender{p: p, rpos: p.sp.start(), behind: true, timer: time.NewTimer(time.Hour)}
	s.timer.Stop()
	for s.step() {
	}
}

// step does one round: publish alerts, take acks, send or wait. It returns
// false when the publisher stops.
func (s *sender) step() bool {
	p := s.p
	select {
	case <-p.stop:
		return false
	default:
	}
	if !p.online() {
		s.window = s.window[:0]
		if !s.sleep(time.Second) {
			return false
		}
		s.rpos, s.behind = p.sp.start(), true
		return true
	}
	s.sendAlerts()
	if err := s.reap(); err != nil {
		return s.fail(err)
	}
	room := p.cfg.MaxInFlight - len(s.window)
	if room <= 0 {
		return s.waitAcks()
	}
	now := time.Now()
	if p.paced.Load() {
		// Drained (or a batch's worth appended) wakes it when it is time
		// to send: it then sends whatever its own clock says, so one
		// wakeup of the reader is one send.
		if !s.behind && !s.due && p.pending.Load() < batchBytes {
			return s.waitAck(len(s.window)-1, p.wake)
		}
		s.due = false
	} else if until := s.lastSend.Add(p.linger); !s.behind && now.Before(until) && p.pending.Load() < batchBytes {
		return s.linger(until)
	}
	took, full, err := s.fill(room)
	var rerr *readError
	if errors.As(err, &rerr) {
		if errors.Is(rerr.err, errSpoolClosed) {
			return false
		}
		p.log.Error("reading spool; skipping the rest of the segment", "err", rerr.err)
		s.rpos = p.sp.skipSegment(rerr.at)
		if len(s.window) == 0 {
			p.sp.commit(s.rpos)
		}
		return true
	}
	if err != nil {
		return s.fail(err)
	}
	if took > 0 {
		s.lastSend, s.behind = now, full
		if !s.behind {
			p.pending.Store(0)
		}
		return true
	}
	return s.waitIdle()
}

// readError is a spool read that failed at a record.
type readError struct {
	at  pos
	err error
}

func (e *readError) Error() string { return e.err.Error() }

// fill publishes the records from rpos on in at most room messages (window
// entries): each run of events records in as few messages as the limits
// allow, every other record alone, an alert the fast lane had acknowledged
// not at all. It returns how many records it took and whether it stopped
// at a full window with records left. An error is a publish that failed,
// or a *readError when the spool could not be read (what was read before
// it is published).
func (s *sender) fill(room int) (took int, full bool, err error) {
	p := s.p
	defer s.resetBody()
	used := 0 // window entries taken, the open events message included
	for {
		recs, next, rerr := p.sp.readBatch(s.rpos, readChunk, s.recs[:0])
		s.recs = recs
		for i := range recs {
			r := &recs[i]
			if r.subj == p.subjEvents {
				if s.bodyN > 0 && (s.bodyN >= maxMsgEvents || len(s.body)+1+len(r.data) > maxMsgBytes) {
					if err = s.flushBody(); err != nil {
						break
					}
				}
				if s.bodyN == 0 {
					if used == room {
						full = true
						break
					}
					used++
				}
				s.addBody(r)
				s.rpos = r.next
				took++
				continue
			}
			if s.bodyN > 0 {
				if err = s.flushBody(); err != nil {
					break
				}
			}
			if used == room {
				full = true
				break
			}
			used++
			if r.subj == p.subjAlerts && s.reachAlert(r.id) {
				s.window = append(s.window, inflight{next: r.next, n: 1, ok: true})
			} else {
				paf, perr := s.publish(&r.record)
				if perr != nil {
					err = perr
					break
				}
				s.window = append(s.window, inflight{next: r.next, paf: paf, n: 1})
			}
			s.rpos = r.next
			took++
		}
		clear(recs) // hold no events longer than needed
		if err != nil || full {
			return took, full, err
		}
		if rerr != nil {
			s.rpos = next
			if err = s.flushBody(); err != nil {
				return took, false, err
			}
			return took, false, &readError{at: next, err: rerr}
		}
		if len(recs) < readChunk {
			return took, false, s.flushBody()
		}
		// More to read: an alert spooled meanwhile need not wait for it.
		select {
		case <-p.urgent:
			s.sendAlerts()
		default:
		}
	}
}

// addBody adds an events record to the message being filled. The data is
// copied: a record read from the file is only valid until the next read.
func (s *sender) addBody(r *spoolRec) {
	if s.bodyN > 0 {
		s.body = append(s.body, '\n')
	} else {
		s.bodyFirst = r.id
	}
	s.body = append(s.body, r.data...)
	s.bodyN++
	s.bodyNext = r.next
}

// flushBody publishes the events message being filled, if any.
func (s *sender) flushBody() error {
	if s.bodyN == 0 {
		return nil
	}
	id := s.bodyFirst
	if s.bodyN > 1 {
		id += "+" + strconv.Itoa(s.bodyN)
	}
	paf, err := s.publishData(s.p.subjEvents, id, s.body)
	n := s.bodyN
	s.resetBody()
	if err != nil {
		return err
	}
	s.window = append(s.window, inflight{next: s.bodyNext, paf: paf, n: n})
	return nil
}

// resetBody empties the message being filled (dropping one left unsent
// after an error) and drops a buffer grown by big events.
func (s *sender) resetBody() {
	s.body, s.bodyN, s.bodyFirst = s.body[:0], 0, ""
	if cap(s.body) > 2*maxMsgBytes {
		s.body = nil
	}
}

// publish sends one record as a message of its own.
func (s *sender) publish(r *record) (jetstream.PubAckFuture, error) {
	return s.publishData(r.subj, r.id, r.data)
}

// publishData sends one message. nats.go copies the data into its write
// buffer before returning (and retries nothing itself: no retry attempts),
// so the data need not outlive the call.
func (s *sender) publishData(subj, id string, data []byte) (jetstream.PubAckFuture, error) {
	o := &outMsg{id: [1]string{id}}
	o.m = nats.Msg{Subject: subj, Data: data, Header: nats.Header{jetstream.MsgIDHeader: o.id[:]}}
	return s.p.js.PublishMsgAsync(&o.m, s.p.pubOpts...)
}

// outMsg is a message and its header value in one allocation.
type outMsg struct {
	m  nats.Msg
	id [1]string
}

// reap commits the acknowledged head of the window; it returns the error
// of the first publish that failed.
func (s *sender) reap() (err error) {
	done := 0
	for ; done < len(s.window); done++ {
		e := &s.window[done]
		if !e.ok {
			if e.ok, err = poll(e.paf); !e.ok {
				break
			}
		}
	}
	if done > 0 {
		events := 0
		for _, e := range s.window[:done] {
			events += e.n
		}
		s.p.acked.Add(uint64(events))
		s.p.sp.commit(s.window[done-1].next)
		n := copy(s.window, s.window[done:])
		clear(s.window[n:])
		s.window = s.window[:n]
	}
	return err
}

// ackOf returns the ack channel of entry i, or of the nearest
// unacknowledged one before it, to wait on; nil when there is none.
func (s *sender) ackOf(i int) (int, <-chan *jetstream.PubAck) {
	for ; i >= 0; i-- {
		if !s.window[i].ok {
			return i, s.window[i].paf.Ok()
		}
	}
	return 0, nil
}

// windowErr returns the error of a publish in the window that failed.
func (s *sender) windowErr() error {
	for _, e := range s.window {
		if e.ok {
			continue
		}
		select {
		case err := <-e.paf.Err():
			return err
		default:
		}
	}
	return nil
}

// waitAcks waits, with the window full, for a quarter of it to be
// acknowledged, so the window refills in batches.
func (s *sender) waitAcks() bool {
	return s.waitAck(len(s.window)/4, nil)
}

// waitAck waits for the ack of the window's i-th publish, a publish error,
// an alert, the stop or, if wake is not nil, a wake.
func (s *sender) waitAck(i int, wake <-chan struct{}) bool {
	p := s.p
	i, ack := s.ackOf(i)
	select {
	case <-p.stop:
		return false
	case <-wake:
		s.due = true
	case <-ack:
		s.window[i].ok = true
	case <-p.pubErr:
		if err := s.windowErr(); err != nil {
			s.reap() // commit what was acknowledged before it
			return s.fail(err)
		}
	case <-p.urgent:
	}
	return true
}

// waitIdle waits for records to send, the newest publish's ack or an
// alert.
func (s *sender) waitIdle() bool {
	p := s.p
	p.idle.Store(true)
	defer p.idle.Store(false)
	if p.sp.hasAfter(s.rpos) { // appended before idle was seen
		return true
	}
	return s.waitAck(len(s.window)-1, p.wake)
}

// linger waits until the next batch is due, a batch's worth is appended or
// an alert comes.
func (s *sender) linger(until time.Time) bool {
	p := s.p
	s.timer.Reset(time.Until(until))
	defer s.timer.Stop()
	select {
	case <-p.stop:
		return false
	case <-s.timer.C:
	case <-p.wake:
	case <-p.urgent:
	}
	return true
}

// sleep waits d, or less if woken, publishing alerts that come meanwhile.
func (s *sender) sleep(d time.Duration) bool {
	p := s.p
	s.timer.Reset(d)
	defer s.timer.Stop()
	for {
		select {
		case <-p.stop:
			return false
		case <-s.timer.C:
			return true
		case <-p.wake:
			return true
		case <-p.urgent:
			s.sendAlerts()
		}
	}
}

// fail waits for outstanding acks to settle and starts again from the
// first unacknowledged record.
func (s *sender) fail(err error) bool {
	p := s.p
	p.retries.Add(1)
	p.log.Debug("publish failed; resending from the spool", "err", err)
	settled := time.NewTimer(p.opts.AckTimeout + time.Second)
	defer settled.Stop()
wait:
	for {
		select {
		case <-p.js.PublishAsyncComplete():
			break wait
		case <-p.stop:
			return false
		case <-settled.C:
			break wait
		case <-p.urgent:
			s.sendAlerts()
		}
	}
	s.reap() // commit what was acknowledged after all
	s.window = s.window[:0]
	s.rpos, s.behind = p.sp.start(), true
	return s.sleep(time.Second)
}

// sendAlerts publishes the alerts spooled since the last round ahead of
// the spool order. One that cannot go now is left to the spool.
func (s *sender) sendAlerts() {
	p := s.p
	p.alertMu.Lock()
	s.alerts, p.alerts = p.alerts, s.alerts[:0]
	p.alertMu.Unlock()
	if len(s.alerts) == 0 {
		return
	}
	if !p.online() {
		// Their spooled copies go when it is.
		clear(s.alerts)
		return
	}
	pending := s.pruneFast()
	for i := range s.alerts {
		if pending >= alertSlack {
			break
		}
		paf, err := s.publish(&s.alerts[i])
		if err != nil {
			p.log.Debug("fast publish of an alert failed; it goes in spool order", "err", err)
			break
		}
		s.fast = append(s.fast, fastAlert{id: s.alerts[i].id, paf: paf})
		pending++
	}
	clear(s.alerts)
}

func (f *fastAlert) update() {
	if f.state != fastPending {
		return
	}
	switch acked, err := poll(f.paf); {
	case acked:
		f.state = fastAcked
	case err != nil:
		f.state = fastFailed
	}
}

// poll says, without waiting, whether paf was acknowledged or else failed
// (err); it takes the ack or error from paf, so the caller must keep it.
func poll(paf jetstream.PubAckFuture) (acked bool, err error) {
	select {
	case <-paf.Ok():
		return true, nil
	default:
	}
	select {
	case err = <-paf.Err():
	default:
	}
	return false, err
}

// pruneFast forgets fast-lane alerts nothing needs any more and returns how
// many still await their acks.
func (s *sender) pruneFast() (pending int) {
	kept := s.fast[:0]
	for _, f := range s.fast {
		f.update()
		switch {
		case f.state == fastPending:
			pending++
		case f.state == fastFailed || f.reached:
			continue
		}
		kept = append(kept, f)
	}
	clear(s.fast[len(kept):])
	s.fast = kept
	// Acked alerts the spool dropped before sending are never reached.
	if over := len(s.fast) - 4*alertSlack; over > 0 {
		kept = s.fast[:0]
		for _, f := range s.fast {
			if over > 0 && f.state == fastAcked {
				over--
				continue
			}
			kept = append(kept, f)
		}
		clear(s.fast[len(kept):])
		s.fast = kept
	}
	return pending
}

// reachAlert is called when the in-order send comes to alert id: it says
// whether the fast lane already had it acknowledged, so it need not go
// again.
func (s *sender) reachAlert(id string) bool {
	for i := range s.fast {
		f := &s.fast[i]
		if f.id == id && !f.reached {
			f.update()
			f.reached = true
			return f.state == fastAcked
		}
	}
	return false
}

// flushEvery is how often buffered spool records and the cursor are
// saved, so a crash loses at most that much of either (and a lost cursor
// only resends).
const flushEvery = 200 * time.Millisecond

// pacedTick is the flusher's tick once Drained paces the publisher: it
// only covers a source that stopped calling Drained (a reader never idle
// under a flood), flushing and sending what a second left behind.
const pacedTick = time.Second

// flusher flushes the spool every flushEvery, or, once the publisher is
// paced, every pacedTick when Drained has not.
func (p *Publisher) flusher() {
	defer p.loops.Done()
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	paced := false
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		if !paced && p.paced.Load() {
			paced = true
			t.Reset(pacedTick)
		}
		now := p.since()
		if paced && now-p.lastFlush.Load() < int64(flushEvery) {
			continue
		}
		p.flush(now)
		if paced {
			p.pace(now, pacedTick)
		}
	}
}

// flush saves buffered spool records and the cursor and reports records a
// full spool dropped.
func (p *Publisher) flush(now int64) {
	p.lastFlush.Store(now)
	if err := p.sp.flush(); err != nil {
		p.log.Error("flushing spool", "err", err)
	}
	p.reportLoss()
}

// ReasonSpoolFull is the loss reason for events dropped from a full spool.
const ReasonSpoolFull = "spool_full"

// reportLoss turns records dropped from a full spool into agent.loss
// events, one per boot that numbered them, emitted through the agent when
// there is one.
func (p *Publisher) reportLoss() {
	for _, d := range p.sp.takeDropped() {
		p.reportDrop(d)
	}
}

// reportDrop emits one loss record for d.
func (p *Publisher) reportDrop(d dropRange) {
	// count can include what earlier loss records carried when they were
	// dropped themselves before delivery (reported again); total is the
	// records dropped since the agent started.
	p.log.Warn("spool full: oldest events dropped", "count", d.count, "total", p.sp.lost(),
		"boot_id", d.boot, "from_seq", d.from, "to_seq", d.to)
	ev := &event.Event{Time: time.Now().UTC(), Kind: event.KindAgentLoss,
		Loss: &event.Loss{Sensor: "spool", Count: d.count, Reason: ReasonSpoolFull, BootID: d.boot, FromSeq: d.from, ToSeq: d.to}}
	p.mu.Lock()
	src, boot := p.src, p.bootID
	p.mu.Unlock()
	if src != nil {
		src.Emit(ev)
		return
	}
	ev.Site, ev.Host, ev.AgentID, ev.BootID = p.opts.Site, p.opts.Host, p.opts.AgentID, boot
	ev.ID = fmt.Sprintf("%s-loss-%d", boot, p.lossSeq.Add(1))
	if err := p.Publish(ev); err != nil {
		p.log.Error("spooling loss record", "err", err)
	}
}

// Start begins heartbeats about src every heartbeat interval.
func (p *Publisher) Start(src Source) {
	p.mu.Lock()
	p.src = src
	p.bootID = src.BootID()
	p.mu.Unlock()
	p.beating.Add(1)
	go p.heartbeats()
}

func (p *Publisher) heartbeats() {
	defer p.beating.Done()
	var n uint64
	t := time.NewTicker(p.cfg.HeartbeatEvery)
	defer t.Stop()
	p.heartbeat(&n, p.cfg.HeartbeatEvery)
	for {
		select {
		case <-p.beatStop:
			return
		case <-t.C:
			p.heartbeat(&n, p.cfg.HeartbeatEvery)
		}
	}
}

// heartbeat publishes one heartbeat straight to JetStream, not through the
// spool: a late heartbeat says nothing, and it carries seq 0 so it leaves
// no gap in the agent's numbered events. interval 0 says the agent is
// stopping.
func (p *Publisher) heartbeat(n *uint64, interval time.Duration) {
	p.mu.Lock()
	src, boot := p.src, p.bootID
	p.mu.Unlock()
	if src == nil || !p.online() {
		return
	}
	*n++
	ev := &event.Event{ID: fmt.Sprintf("%s-hb-%d", boot, *n), Time: time.Now().UTC(), Kind: event.KindHeartbeat,
		Site: p.opts.Site, Host: p.opts.Host, AgentID: p.opts.AgentID, BootID: boot, Heartbeat: src.Heartbeat(interval)}
	data, err := event.Encode(ev)
	if err != nil {
		p.log.Error("encoding heartbeat", "err", err)
		return
	}
	if _, err := p.js.PublishAsync(event.Subject(p.opts.Site, p.opts.AgentID, event.ClassHeartbeat), data,
		jetstream.WithMsgID(ev.ID)); err == nil {
		p.beats.Add(1)
	}
}

// Stats returns the publisher's counters.
func (p *Publisher) Stats() Stats {
	return Stats{Spooled: p.spooled.Load(), Acked: p.acked.Load(), Retries: p.retries.Load(),
		Dropped: p.sp.lost(), Depth: p.sp.depth(), Heartbeats: p.beats.Load(), Connected: p.nc.IsConnected()}
}

// Spool says how many events wait in the spool and how many a full spool
// dropped since start.
func (p *Publisher) Spool() (depth, dropped uint64) { return p.sp.depth(), p.sp.lost() }

// Drain waits until the spool is empty or ctx ends.
func (p *Publisher) Drain(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for p.sp.depth() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d events still spooled: %w", p.sp.depth(), ctx.Err())
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
	select {
	case <-p.js.PublishAsyncComplete():
	case <-ctx.Done():
	}
	close(p.stop)
	<-p.stopped
	p.loops.Wait()
	p.nc.Close()
	return p.sp.close()
}

package publish

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/shirou/gopsutil/v3/process"

	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/event"
)

// Source is the agent the publisher reports on: heartbeats carry its
// counters, and spool loss is emitted through it so the loss record gets a
// sequence number like any event. *agent.Agent implements it.
type Source interface {
	BootID() string
	Stats() agent.Stats
	Sensors() []string
	Emit(ev *event.Event)
}

// Options configure a Publisher beyond agent.hcl.
type Options struct {
	Site, Host, AgentID string
	Version             string
	// RuleSetHash reports the host rule set running (empty: none).
	RuleSetHash func() string
	Logger      *slog.Logger
	// DrainTimeout bounds how long Close waits for the spool to empty.
	// Zero: 5 s.
	DrainTimeout time.Duration
	// AckTimeout is how long a publish may wait for JetStream's ack before
	// it is retried. Zero: 10 s.
	AckTimeout time.Duration
	// NATSOptions are appended to the connection options (tests).
	NATSOptions []nats.Option
}

// Stats are the publisher's counters.
type Stats struct {
	Spooled    uint64 // events written to the spool
	Acked      uint64 // publishes JetStream acknowledged (duplicates included)
	Retries    uint64 // times the in-flight window was resent after an error
	Dropped    uint64 // events dropped from a full spool (loss records included)
	Depth      uint64 // events waiting in the spool
	Heartbeats uint64
	Connected  bool
}

// Publisher is an agent.Sink that delivers through the spool to JetStream.
type Publisher struct {
	cfg  Config
	opts Options
	log  *slog.Logger
	sp   *spool
	nc   *nats.Conn
	js   jetstream.JetStream

	wake    chan struct{} // an append or a reconnect: the sender looks again
	stop    chan struct{}
	stopped chan struct{}
	loops   sync.WaitGroup

	mu     sync.Mutex
	src    Source
	bootID string // of src, or the publisher's own when it has none
	closed bool

	spooled, acked, retries, beats atomic.Uint64
	lossSeq                        atomic.Uint64
}

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
	sp, err := openSpool(c.SpoolDir, c.SpoolMaxMiB<<20)
	if err != nil {
		return nil, err
	}
	p := &Publisher{cfg: c, opts: opts, log: opts.Logger, sp: sp, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), stopped: make(chan struct{}), bootID: randomID()}
	if err := p.connect(); err != nil {
		sp.close()
		return nil, err
	}
	go p.send()
	p.loops.Add(1)
	go p.flusher()
	return p, nil
}

func randomID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// InboxPrefix is where an agent's JetStream acks arrive; its permissions
// allow subscribing there and nowhere else.
func InboxPrefix(agentID string) string { return "_INBOX." + agentID }

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
		nats.ConnectHandler(func(*nats.Conn) { p.log.Info("connected to collector", "url", c.URL); p.poke() }),
		nats.ReconnectHandler(func(*nats.Conn) { p.log.Info("reconnected to collector"); p.poke() }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				p.log.Warn("disconnected from collector; spooling", "err", err)
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
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(c.MaxInFlight),
		jetstream.WithPublishAsyncTimeout(p.opts.AckTimeout))
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
func (p *Publisher) Publish(ev *event.Event) error {
	data, err := event.Encode(ev)
	if err != nil {
		return err
	}
	rec := make([]byte, 0, len(data)+len(ev.ID)+64)
	subj := event.Subject(p.opts.Site, p.opts.AgentID, event.ClassOf(ev.Kind))
	rec = binary.AppendUvarint(rec, uint64(len(subj)))
	rec = append(rec, subj...)
	rec = binary.AppendUvarint(rec, uint64(len(ev.ID)))
	rec = append(rec, ev.ID...)
	rec = append(rec, data...)
	var lossCount uint64
	if ev.Kind == event.KindAgentLoss && ev.Loss != nil && ev.Loss.Reason == ReasonSpoolFull {
		lossCount = ev.Loss.Count
	}
	if err := p.sp.append(rec, lossCount); err != nil {
		return fmt.Errorf("spooling event %s: %w", ev.ID, err)
	}
	p.spooled.Add(1)
	p.poke()
	return nil
}

func splitRecord(rec []byte) (subj, id string, data []byte, err error) {
	n, k := binary.Uvarint(rec)
	if k <= 0 || uint64(len(rec)-k) < n {
		return "", "", nil, errors.New("bad spool record")
	}
	subj, rec = string(rec[k:k+int(n)]), rec[k+int(n):]
	n, k = binary.Uvarint(rec)
	if k <= 0 || uint64(len(rec)-k) < n {
		return "", "", nil, errors.New("bad spool record")
	}
	return subj, string(rec[k : k+int(n)]), rec[k+int(n):], nil
}

type inflight struct {
	next pos
	paf  jetstream.PubAckFuture
}

// send publishes the spool in order with at most MaxInFlight unacknowledged
// messages, committing the spool as acks arrive. On any error it waits for
// outstanding acks to settle and resends from the first unacknowledged
// record: JetStream drops the repeats by Nats-Msg-Id, the collector by id.
func (p *Publisher) send() {
	defer close(p.stopped)
	rpos := p.sp.start()
	var window []inflight
	var buf []byte
	backoff := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-p.stop:
			return false
		case <-t.C:
			return true
		case <-p.wake:
			return true
		}
	}
	fail := func(err error) bool {
		p.retries.Add(1)
		p.log.Debug("publish failed; resending from the spool", "err", err)
		window = nil
		select {
		case <-p.js.PublishAsyncComplete():
		case <-p.stop:
			return false
		case <-time.After(p.opts.AckTimeout + time.Second):
		}
		rpos = p.sp.start()
		return backoff(time.Second)
	}
	for {
		select {
		case <-p.stop:
			return
		default:
		}
		if !p.nc.IsConnected() {
			window = nil
			if !backoff(time.Second) {
				return
			}
			rpos = p.sp.start()
			continue
		}
		// Fill the window.
		for len(window) < p.cfg.MaxInFlight {
			rec, next, ok, err := p.sp.read(rpos, buf)
			if err != nil {
				if errors.Is(err, errSpoolClosed) {
					return
				}
				p.log.Error("reading spool; skipping the rest of the segment", "err", err)
				rpos = pos{seg: rpos.seg + 1}
				continue
			}
			if !ok {
				break
			}
			buf = rec
			subj, id, data, err := splitRecord(rec)
			if err != nil {
				p.log.Error("bad spool record skipped", "err", err)
				rpos = next
				continue
			}
			msg := &nats.Msg{Subject: subj, Data: append([]byte(nil), data...)}
			paf, err := p.js.PublishMsgAsync(msg, jetstream.WithMsgID(id))
			if err != nil {
				if !fail(err) {
					return
				}
				break
			}
			window = append(window, inflight{next: next, paf: paf})
			rpos = next
		}
		if len(window) == 0 {
			select {
			case <-p.stop:
				return
			case <-p.wake:
			case <-time.After(time.Second):
			}
			continue
		}
		// Wait for the oldest ack (or more to send).
		head := window[0]
		select {
		case <-p.stop:
			return
		case <-head.paf.Ok():
			done := 1
			for done < len(window) {
				select {
				case <-window[done].paf.Ok():
					done++
					continue
				default:
				}
				break
			}
			p.acked.Add(uint64(done))
			p.sp.commit(window[done-1].next)
			window = window[done:]
		case err := <-head.paf.Err():
			if !fail(err) {
				return
			}
		case <-p.wake:
		}
	}
}

// flusher saves buffered spool records and the cursor every 200 ms, so a
// crash loses at most that much of either (and a lost cursor only resends).
func (p *Publisher) flusher() {
	defer p.loops.Done()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			if err := p.sp.flush(); err != nil {
				p.log.Error("flushing spool", "err", err)
			}
			p.reportLoss()
		}
	}
}

// ReasonSpoolFull is the loss reason for events dropped from a full spool.
const ReasonSpoolFull = "spool_full"

// reportLoss turns records dropped from a full spool into one agent.loss
// event, emitted through the agent when there is one.
func (p *Publisher) reportLoss() {
	n := p.sp.takeDropped()
	if n == 0 {
		return
	}
	p.log.Warn("spool full: oldest events dropped", "count", n)
	ev := &event.Event{Time: time.Now().UTC(), Kind: event.KindAgentLoss,
		Loss: &event.Loss{Sensor: "spool", Count: n, Reason: ReasonSpoolFull}}
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

// Start begins heartbeats about src every heartbeat interval;
// ruleSetHash (may be nil) reports the host rule set running.
func (p *Publisher) Start(src Source, ruleSetHash func() string) {
	p.mu.Lock()
	p.src = src
	if ruleSetHash != nil {
		p.opts.RuleSetHash = ruleSetHash
	}
	p.bootID = src.BootID()
	p.mu.Unlock()
	p.loops.Add(1)
	go p.heartbeats()
}

func (p *Publisher) heartbeats() {
	defer p.loops.Done()
	proc, err := process.NewProcess(int32(os.Getpid()))
	if err != nil {
		p.log.Warn("cannot read own CPU and memory", "err", err)
	}
	var n uint64
	t := time.NewTicker(p.cfg.HeartbeatEvery)
	defer t.Stop()
	p.heartbeat(proc, &n, p.cfg.HeartbeatEvery)
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.heartbeat(proc, &n, p.cfg.HeartbeatEvery)
		}
	}
}

// heartbeat publishes one heartbeat straight to JetStream, not through the
// spool: a late heartbeat says nothing, and it carries seq 0 so it leaves
// no gap in the agent's numbered events. interval 0 says the agent is
// stopping.
func (p *Publisher) heartbeat(proc *process.Process, n *uint64, interval time.Duration) {
	p.mu.Lock()
	src, boot := p.src, p.bootID
	p.mu.Unlock()
	if src == nil || !p.nc.IsConnected() {
		return
	}
	*n++
	st := src.Stats()
	hb := &event.Heartbeat{
		IntervalS: uint32((interval + time.Second - 1) / time.Second), Events: st.Events, KernelDrops: st.KernelDrops,
		SpoolDepth: p.sp.depth(), SpoolDropped: p.sp.lost(), Sensors: src.Sensors(),
		Version: p.opts.Version, KernelVersion: kernelVersion(),
	}
	if hb.Sensors == nil {
		hb.Sensors = []string{}
	}
	p.mu.Lock()
	hash := p.opts.RuleSetHash
	p.mu.Unlock()
	if hash != nil {
		hb.RuleSetHash = hash()
	}
	if proc != nil {
		if cpu, err := proc.Percent(0); err == nil {
			hb.CPUPercent = cpu / float64(runtime.NumCPU())
		}
		if mi, err := proc.MemoryInfo(); err == nil {
			hb.RSSBytes = mi.RSS
		}
	}
	ev := &event.Event{ID: fmt.Sprintf("%s-hb-%d", boot, *n), Time: time.Now().UTC(), Kind: event.KindHeartbeat,
		Site: p.opts.Site, Host: p.opts.Host, AgentID: p.opts.AgentID, BootID: boot, Heartbeat: hb}
	data, err := event.Encode(ev)
	if err != nil {
		return
	}
	if _, err := p.js.PublishAsync(event.Subject(p.opts.Site, p.opts.AgentID, event.ClassHeartbeat), data,
		jetstream.WithMsgID(ev.ID)); err == nil {
		p.beats.Add(1)
	}
}

var kernelRelease = sync.OnceValue(func() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return string(trimNL(b))
})

func kernelVersion() string { return kernelRelease() }

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

// Stats returns the publisher's counters.
func (p *Publisher) Stats() Stats {
	return Stats{Spooled: p.spooled.Load(), Acked: p.acked.Load(), Retries: p.retries.Load(),
		Dropped: p.sp.lost(), Depth: p.sp.depth(), Heartbeats: p.beats.Load(), Connected: p.nc.IsConnected()}
}

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
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.DrainTimeout)
	defer cancel()
	if err := p.Drain(ctx); err != nil {
		p.log.Warn("closing with events left in the spool; they are sent on the next start", "err", err)
	}
	var n uint64 = 1 << 62 // a distinct id for the farewell heartbeat
	proc, _ := process.NewProcess(int32(os.Getpid()))
	p.heartbeat(proc, &n, 0)
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

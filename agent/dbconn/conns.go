package dbconn

import (
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/vigilhq/vigil/agent/dbwire"
	"github.com/vigilhq/vigil/agent/enrich"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/event"
)

// Conns follows every database connection the sensor reports. Its methods
// may be called from any goroutine. Each returns the events it made, in the
// order they are to be published, in a slice that is Conns' own until the
// next call: a caller that publishes events from several goroutines calls
// and publishes under one lock of its own, so events keep their order.
type Conns struct {
	opts  Options
	log   *slog.Logger
	procs *enrich.Table
	clock enrich.Clock
	ports map[uint16]bool
	due   chan struct{}
	// sessionEvery is how often an unreadable open connection is reported.
	sessionEvery time.Duration

	mu    sync.Mutex
	conns map[uint64]*conn
	// names are Unix connections' ends, by socket, until their first Data.
	names map[uint64]*db.UnixEnds
	// closed are the inodes of Unix sockets closed, by address: their
	// close is found by a sweep, and a record of theirs read after it
	// must not start the connection again.
	closed map[uint64]uint64
	peers  *peers
	swept  time.Time
	// folds is nil when folding is off; its timer and when that fires
	// (zero: not armed) go with it.
	folds   *folds
	timer   *time.Timer
	timerAt time.Time
	stopped bool
	out     events
	// gaveUps counts connection ends whose tracker gave up, by reason.
	gaveUps map[string]uint64
	// evicted counts the prepared statements and cursors the trackers of
	// closed connection ends forgot to stay within their bounds.
	evicted uint64
}

// events collects what one call returns.
type events []*event.Event

func (e *events) add(ev *event.Event) { *e = append(*e, ev) }

// New follows connections with opts, describing processes with procs and
// stamping times with clock.
func New(opts Options, procs *enrich.Table, clock enrich.Clock) *Conns {
	if len(opts.Ports) == 0 {
		opts.Ports = db.DefaultPorts
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Conns{opts: opts, log: opts.Logger, procs: procs, clock: clock, ports: map[uint16]bool{},
		due: make(chan struct{}, 1), conns: map[uint64]*conn{}, names: map[uint64]*db.UnixEnds{}, closed: map[uint64]uint64{},
		gaveUps: map[string]uint64{},
		peers:   newPeers(opts.Mute, opts.Logger.Warn)}
	for _, p := range opts.Ports {
		c.ports[p] = true
	}
	c.sessionEvery = opts.SessionEvery
	if c.sessionEvery <= 0 {
		c.sessionEvery = DefaultSessionEvery
	}
	if opts.FoldWindow > 0 {
		c.folds = newFolds(opts.FoldWindow)
	}
	return c
}

// begin starts a call: the returned events go in c.out.
func (c *Conns) begin() {
	clear(c.out)
	c.out = c.out[:0]
}

// Data takes bytes sent or received on a connection.
func (c *Conns) Data(d *db.Data) []*event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.begin()
	if ino, ok := c.closed[d.Conn.Sock]; ok {
		if ino == d.Conn.Ino {
			return c.out // a closed Unix socket's late record
		}
		delete(c.closed, d.Conn.Sock)
	}
	ts := c.clock.Time(d.TS)
	cn := c.conns[d.Conn.Sock]
	if cn != nil && cn.end != d.Conn {
		// A socket whose close went unseen, at an address a new one took.
		c.drop(cn, ts)
		cn = nil
	}
	if cn == nil {
		names := c.names[d.Conn.Sock]
		if names != nil && names.Conn != d.Conn {
			names = nil
		}
		delete(c.names, d.Conn.Sock)
		cn = newConn(c.ports, d, names)
		c.conns[d.Conn.Sock] = cn
		c.peers.added(cn)
	}
	cn.last = ts
	cn.header = d.Header
	if !c.opts.BothEnds && c.peers.leave(cn) {
		// Left to the client end: drop what the server end parsed so
		// far (its statements are the client's) and read no more.
		cn.plain, cn.tls = nil, nil
		return c.out
	}
	t, err := cn.tracker(d, dbwire.Config{Engine: cn.engine, Redactor: c.opts.Redactor})
	if err != nil {
		c.log.Error("starting database tracker", "err", err)
		return c.out
	}
	dir := cn.direction(d)
	cn.count(d, ts, dir)
	var recs []dbwire.Record
	switch {
	case d.Tail > 0:
		head := d.Data[:len(d.Data)-d.Tail]
		recs = t.FeedHeadTail(dir, ts, head, d.Len-len(d.Data), d.Data[len(head):])
	case len(d.Data) < d.Len:
		recs = t.FeedTruncated(dir, ts, d.Data, d.Len)
	default:
		recs = t.Feed(dir, ts, d.Data)
	}
	c.statements(cn, recs, d.TLS)
	c.checkOpaque(cn, ts)
	if !d.TLS && !cn.sslChecked && cn.unobservedTLS() && c.opts.LibSSLCheck != nil {
		cn.sslChecked = true
		c.opts.LibSSLCheck(d.PID)
	}
	c.sweep(ts)
	return c.out
}

// Unix takes the names of a Unix-domain connection's ends, which come
// before its first bytes.
func (c *Conns) Unix(u *db.UnixEnds) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.names) >= maxNames {
		// Names whose bytes never came (their records lost): start afresh
		// rather than grow.
		clear(c.names)
	}
	c.names[u.Conn.Sock] = u
}

// maxNames bounds the Unix connections' names waiting for their first
// bytes.
const maxNames = 4096

// Close takes the close of a connection end.
func (c *Conns) Close(cl *db.Close) []*event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.begin()
	delete(c.names, cl.Conn.Sock)
	if cl.Conn.Ino != 0 {
		if len(c.closed) >= maxNames {
			clear(c.closed)
		}
		c.closed[cl.Conn.Sock] = cl.Conn.Ino
	}
	if cn := c.conns[cl.Conn.Sock]; cn != nil && (cl.Conn.Ino == 0 || cl.Conn.Ino == cn.end.Ino) {
		c.drop(cn, c.clock.Time(cl.TS))
	}
	return c.out
}

// drop forgets a connection end, reporting what its trackers and folds
// still hold.
func (c *Conns) drop(cn *conn, ts time.Time) {
	delete(c.conns, cn.end.Sock)
	c.peers.removed(cn)
	c.finish(cn, ts)
	c.evicted += cn.evicted()
}

// sweep drops connections silent for idleAfter, at most once a minute.
func (c *Conns) sweep(now time.Time) {
	if now.Sub(c.swept) < time.Minute {
		return
	}
	c.swept = now
	for _, cn := range c.conns {
		if now.Sub(cn.last) > idleAfter {
			c.drop(cn, now)
		}
	}
}

// GaveUp returns how many connection ends' trackers gave up since New, by
// reason (dbwire's Reason constants): each was reported as a db.session,
// and its statements from then on are lost.
func (c *Conns) GaveUp() map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.gaveUps)
}

// Evicted returns how many prepared statements and cursors the trackers
// forgot since New to stay within their bounds: a later execution of one
// is reported without the statement's text.
func (c *Conns) Evicted() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.evicted
	for _, cn := range c.conns {
		n += cn.evicted()
	}
	return n
}

// evicted is what cn's trackers forgot to stay within their bounds.
func (cn *conn) evicted() uint64 {
	var n uint64
	if cn.plain != nil {
		n += cn.plain.Stats().Evicted
	}
	if cn.tls != nil {
		n += cn.tls.Stats().Evicted
	}
	return n
}

// Before returns the statement runs held for process pid, to publish
// before an event of its that is not a statement: rules that follow a
// person from a read to a write then see the read first.
func (c *Conns) Before(pid uint32) []*event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.begin()
	if c.folds != nil {
		c.folds.flushProcess(pid, &c.out)
	}
	return c.out
}

// Due is signalled when a fold window has ended with no record to end it:
// Expire then returns its runs.
func (c *Conns) Due() <-chan struct{} { return c.due }

// Expire returns the runs of the fold windows ended by now.
func (c *Conns) Expire(now time.Time) []*event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.begin()
	c.timerAt = time.Time{}
	if c.folds == nil || c.stopped {
		return c.out
	}
	c.folds.expire(now, &c.out)
	c.arm()
	return c.out
}

// Stop returns every run the folds hold; statements after it are reported
// one by one.
func (c *Conns) Stop() []*event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.begin()
	if c.folds == nil {
		return c.out
	}
	c.stopped = true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.folds.flushAll(&c.out)
	return c.out
}

// arm sets the timer that signals Due when the earliest window ends. It
// fires a tenth of a window late so one wakeup ends the windows that close
// together.
func (c *Conns) arm() {
	if !c.timerAt.IsZero() {
		return // armed; Expire arms it again
	}
	at, ok := c.folds.next()
	if !ok {
		return
	}
	c.timerAt = at.Add(c.folds.window / 10)
	if c.timer == nil {
		c.timer = time.AfterFunc(time.Until(c.timerAt), c.signal)
		return
	}
	c.timer.Reset(time.Until(c.timerAt))
}

func (c *Conns) signal() {
	select {
	case c.due <- struct{}{}:
	default:
	}
}

package attribute

import (
	"net/netip"
	"time"

	"github.com/vigilhq/vigil/event"
)

// Options bound a Joiner. Zero values pick the defaults noted.
type Options struct {
	// Grace is how long a server-side statement of a connection no client
	// end has reported waits for that report. It must cover the client
	// agent's delays: its fold window, its publishing linger, and the 10 s
	// between the interim reports of an open connection. Default 20 s.
	Grace time.Duration
	// Retain is how long a client end's report is remembered after its
	// last report. Default 1 h.
	Retain time.Duration
	// RetainAddrs is how long an address an agent reported from, and a
	// database server's address, are remembered. Default 24 h.
	RetainAddrs time.Duration
	// MaxConns bounds the client ends remembered; the one reported longest
	// ago is forgotten first. Default 200000.
	MaxConns int
	// MaxHeld bounds the statements waiting for their client end; when
	// full, the oldest is judged at once. Default 20000.
	MaxHeld int
	// MaxAddrs bounds the agent addresses and the database servers
	// remembered, each. Default 100000.
	MaxAddrs int
}

func (o Options) withDefaults() Options {
	if o.Grace <= 0 {
		o.Grace = 20 * time.Second
	}
	if o.Retain <= 0 {
		o.Retain = time.Hour
	}
	if o.RetainAddrs <= 0 {
		o.RetainAddrs = 24 * time.Hour
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 200000
	}
	if o.MaxHeld <= 0 {
		o.MaxHeld = 20000
	}
	if o.MaxAddrs <= 0 {
		o.MaxAddrs = 100000
	}
	return o
}

// Out is one event handed on by the Joiner.
type Out struct {
	Event *event.Event
	// Judged is set when the Joiner has just set the event's Attribution:
	// its stored copy is to be updated.
	Judged bool
}

// Stats are the Joiner's counters.
type Stats struct {
	// Held is how many statements wait for their client end now.
	Held int
	// Conns is how many client ends are remembered now.
	Conns int
	// Overflowed counts statements judged before their grace period ended
	// because MaxHeld were waiting.
	Overflowed uint64
	// ConnsEvicted counts client ends forgotten before Retain because
	// MaxConns were remembered; AddrsEvicted the same for addresses.
	ConnsEvicted, AddrsEvicted uint64
}

// Joiner joins server-side statements to their connection's client end.
// It is not safe for concurrent use.
type Joiner struct {
	o Options
	// conns are the client ends reported, by connection.
	conns *lru[connKey, *clientEnd]
	// agents are the addresses agents reported client ends from.
	agents *lru[addrKey, struct{}]
	// agentless are addresses whose statements waited a whole grace period
	// for a report and no agent reports from: later statements from them
	// (an application server, a NAT gateway) are judged at once rather
	// than filling the queue. A report from the address clears it.
	agentless *lru[addrKey, struct{}]
	// servers are the database servers' addresses: only connections to one
	// are remembered from net.transfer reports, which cover every TCP
	// connection a host makes.
	servers *lru[netip.AddrPort, struct{}]
	held    heldQueue
}

// clientEnd is what the client end's agent reported of a connection.
type clientEnd struct {
	site, host, agentID string
	eventID             string
	proc                event.Process
	// fromDB is set once a db.query or db.session named the connection;
	// until then only a net.transfer did, and the statements may yet be
	// reported.
	fromDB bool
	// readable is set when the client end reported statements.
	readable bool
	// unreadableFrom is when a db.session said the statements could not be
	// read (zero: none did).
	unreadableFrom time.Time
}

// New returns a Joiner bounded by o.
func New(o Options) *Joiner {
	o = o.withDefaults()
	return &Joiner{o: o, conns: newLRU[connKey, *clientEnd](o.MaxConns), agents: newLRU[addrKey, struct{}](o.MaxAddrs),
		agentless: newLRU[addrKey, struct{}](o.MaxAddrs), servers: newLRU[netip.AddrPort, struct{}](o.MaxAddrs),
		held: newHeldQueue()}
}

// Grace is the Joiner's grace period.
func (j *Joiner) Grace() time.Duration { return j.o.Grace }

// Stats returns the Joiner's counters.
func (j *Joiner) Stats() Stats {
	return Stats{Held: j.held.len(), Conns: j.conns.len(), Overflowed: j.held.overflowed,
		ConnsEvicted: j.conns.evicted, AddrsEvicted: j.agents.evicted + j.agentless.evicted + j.servers.evicted}
}

// Take takes one event that arrived at now and returns the events to hand
// on, in order: statements held before and judged now, then ev itself
// unless it is held. A server-side statement already attributed (an
// earlier judgement, read back from the store) passes as it is.
func (j *Joiner) Take(ev *event.Event, now time.Time) []Out {
	var out []Out
	switch {
	case Attributes(ev):
		if server, ok := parseEnd(ev.DB.Server); ok {
			j.servers.put(server, struct{}{}, stamp(ev, now))
		}
		if ev.Attribution != nil {
			return append(out, Out{Event: ev})
		}
		if j.judge(ev, now, false) {
			// A copy held from a batch that failed is judged by this one.
			j.held.remove(ev.ID)
			return append(out, Out{Event: ev, Judged: true})
		}
		if early := j.held.add(ev, now, j.o.MaxHeld); early != nil {
			j.judgeEarly(early, now)
			out = append(out, Out{Event: early, Judged: true})
		}
		return out
	case ev.Kind == event.KindDBQuery || ev.Kind == event.KindDBSession:
		if ev.DB != nil {
			if k, ok := j.learnDB(ev, now); ok {
				out = j.release(k, now, out)
			}
		}
	case ev.Kind == event.KindNetTransfer:
		if ev.Net != nil {
			if k, ok := j.learnNet(ev, now); ok {
				out = j.release(k, now, out)
			}
		}
	}
	return append(out, Out{Event: ev})
}

// Expire judges the statements whose grace period has ended by now, with
// what is known, and forgets reports older than Options.Retain. The caller
// runs it on a ticker as well as on each batch, so a statement is judged
// when its grace ends even if nothing else arrives.
func (j *Joiner) Expire(now time.Time) []Out {
	var out []Out
	for {
		ev := j.held.due(now.Add(-j.o.Grace))
		if ev == nil {
			break
		}
		j.judge(ev, now, true)
		out = append(out, Out{Event: ev, Judged: true})
	}
	j.conns.expire(now.Add(-j.o.Retain))
	j.agents.expire(now.Add(-j.o.RetainAddrs))
	j.agentless.expire(now.Add(-j.o.RetainAddrs))
	j.servers.expire(now.Add(-j.o.RetainAddrs))
	return out
}

// Rehold takes back statements the Joiner handed on judged whose judgement
// was not stored (the caller's transaction failed): their Attribution is
// cleared and they are judged again, with what is known then, at the next
// Expire. A statement of the failed transaction's own messages comes back
// again too, as another copy of the same id: judged at once, it lets the
// held copy go; otherwise the held copy stands for it.
func (j *Joiner) Rehold(evs []*event.Event) {
	for _, ev := range evs {
		ev.Attribution = nil
	}
	j.held.front(evs)
}

// Attributes says ev is a statement or connection read at the database
// server, the kind of event the Joiner attributes.
func Attributes(ev *event.Event) bool {
	return (ev.Kind == event.KindDBQuery || ev.Kind == event.KindDBSession) && ev.DB != nil && ev.DB.Side == "server"
}

// stamp is when a report counts as made: its own time, unless that is
// later than its arrival (an agent's clock ahead of the collector's).
func stamp(ev *event.Event, now time.Time) time.Time {
	if !ev.Time.IsZero() && ev.Time.Before(now) {
		return ev.Time
	}
	return now
}

// learnDB records what a db event says: the server's address, and for a
// client end the connection, its process and whether it reads the
// statements.
func (j *Joiner) learnDB(ev *event.Event, now time.Time) (connKey, bool) {
	k, ok := dbKey(ev)
	if !ok {
		return k, false
	}
	at := stamp(ev, now)
	j.servers.put(k.server, struct{}{}, at)
	if ev.DB.Side != "client" {
		return k, false
	}
	j.agentSeen(k.addr(), at)
	c, _ := j.conns.get(k, now.Add(-j.o.Retain))
	if c == nil || !c.fromDB || (ev.Process != nil && !sameProcess(&c.proc, ev.Process)) {
		// New, known only from the network, or the ports reused by another
		// process for a new connection.
		c = &clientEnd{}
	}
	c.fromDB = true
	c.site, c.host, c.agentID, c.eventID = ev.Site, ev.Host, ev.AgentID, ev.ID
	if ev.Process != nil {
		c.proc = *ev.Process
	}
	if ev.Kind == event.KindDBQuery {
		c.readable = true
	} else if c.unreadableFrom.IsZero() || ev.Time.Before(c.unreadableFrom) {
		c.unreadableFrom = ev.Time
	}
	j.conns.put(k, c, at)
	return k, true
}

// sameProcess says a and b are one process: the same pid, started at the
// same time when both know when.
func sameProcess(a, b *event.Process) bool {
	return a.PID == b.PID && (a.StartTime.IsZero() || b.StartTime.IsZero() || a.StartTime.Equal(b.StartTime))
}

// learnNet records the address an outbound TCP connection came from and,
// when it went to a database server, the connection and its process.
func (j *Joiner) learnNet(ev *event.Event, now time.Time) (connKey, bool) {
	k, ok := netKey(ev)
	if !ok {
		return k, false
	}
	at := stamp(ev, now)
	j.agentSeen(k.addr(), at)
	if _, ok := j.servers.get(k.server, now.Add(-j.o.RetainAddrs)); !ok {
		return k, false
	}
	c, _ := j.conns.get(k, now.Add(-j.o.Retain))
	if c == nil {
		c = &clientEnd{site: ev.Site, host: ev.Host, agentID: ev.AgentID, eventID: ev.ID}
		if ev.Process != nil {
			c.proc = *ev.Process
		}
	}
	j.conns.put(k, c, at)
	return k, true
}

// agentSeen records that an agent reported from a.
func (j *Joiner) agentSeen(a addrKey, at time.Time) {
	j.agents.put(a, struct{}{}, at)
	j.agentless.delete(a)
}

// release hands on the statements held for connection k that its client
// end's report now decides.
func (j *Joiner) release(k connKey, now time.Time, out []Out) []Out {
	for _, ev := range j.held.forKey(k) {
		if j.judge(ev, now, false) {
			j.held.remove(ev.ID)
			out = append(out, Out{Event: ev, Judged: true})
		}
	}
	return out
}

// judge sets ev's Attribution if what is known decides it, or if final
// (its grace period is over) with what is known; it reports whether it
// did. A connection known only from a net.transfer is decided only when
// final: its agent may yet report the statements themselves.
func (j *Joiner) judge(ev *event.Event, now time.Time, final bool) bool {
	k, ok := dbKey(ev)
	if !ok {
		ev.Attribution = &event.Attribution{Status: event.AttributionUnjoined, Reason: "no_address", By: event.AttributedByCollector}
		return true
	}
	c, _ := j.conns.get(k, now.Add(-j.o.Retain))
	_, agentThere := j.agents.get(k.addr(), now.Add(-j.o.RetainAddrs))
	// A loopback client is on the host whose agent reported the server
	// end: an agent is there.
	agentThere = agentThere || k.agent != ""
	_, agentless := j.agentless.get(k.addr(), now.Add(-j.o.RetainAddrs))
	switch {
	case c != nil && (c.fromDB || final):
		ev.Attribution = c.attribution(ev.Time)
	case c == nil && !agentThere && (agentless || final):
		ev.Attribution = &event.Attribution{Status: event.AttributionUnjoined, Reason: "no_agent", By: event.AttributedByCollector}
		j.agentless.put(k.addr(), struct{}{}, now)
	case c == nil && final:
		ev.Attribution = &event.Attribution{Status: event.AttributionUnjoined, Reason: "no_report", By: event.AttributedByCollector}
	default:
		return false
	}
	return true
}

// judgeEarly judges a statement pushed out of a full queue before its
// grace period ended.
func (j *Joiner) judgeEarly(ev *event.Event, now time.Time) {
	j.judge(ev, now, true)
	if a := ev.Attribution; a.Status == event.AttributionUnjoined && a.Reason != "no_address" {
		a.Reason = "queue_full"
	}
}

// attribution is what c says of a statement the server read at ts.
func (c *clientEnd) attribution(ts time.Time) *event.Attribution {
	status := event.AttributionAttributed
	if c.readable && (c.unreadableFrom.IsZero() || ts.Before(c.unreadableFrom)) {
		status = event.AttributionDuplicate
	}
	a := &event.Attribution{Status: status, Site: c.site, Host: c.host, AgentID: c.agentID, EventID: c.eventID, By: event.AttributedByCollector}
	a.SetProcess(&c.proc)
	return a
}

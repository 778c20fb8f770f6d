package attribute

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

const (
	wsAddr = "10.0.0.21:50432"
	dbAddr = "10.0.0.5:5432"
)

var (
	java    = event.Process{PID: 4242, Comm: "java", Exe: "/usr/bin/java", UID: 1201, User: "nadia", LoginUID: 1201, LoginUser: "nadia", Session: 7}
	psql    = event.Process{PID: 4300, Comm: "psql", UID: 1202, User: "omar", LoginUID: 1202, LoginUser: "omar"}
	backend = event.Process{PID: 900, Comm: "postgres", User: "postgres", LoginUID: event.NoLoginUID}
)

// rig numbers events and keeps the collector's clock.
type rig struct {
	j   *Joiner
	now time.Time
	n   int
}

func newRig(o Options) *rig { return &rig{j: New(o), now: t0} }

func (r *rig) mk(agent string, kind event.Kind, p event.Process) *event.Event {
	r.n++
	return &event.Event{ID: fmt.Sprintf("%s-%d", agent, r.n), Time: r.now, Kind: kind, Site: "site-" + agent,
		Host: "host-" + agent, AgentID: agent, Process: &p}
}

// stmt is a statement the database host's agent read at the server.
func (r *rig) stmt(client string) *event.Event {
	ev := r.mk("db", event.KindDBQuery, backend)
	ev.DB = &event.DB{Engine: "postgresql", Side: "server", Client: client, Server: dbAddr, Statement: "SELECT 1", Rows: 1}
	return ev
}

// session is a workstation's report of a connection it cannot read.
func (r *rig) session(client string, p event.Process) *event.Event {
	ev := r.mk("ws", event.KindDBSession, p)
	ev.DB = &event.DB{Engine: "postgresql", Side: "client", Client: client, Server: dbAddr, Encrypted: true}
	return ev
}

// query is a workstation's report of a statement it read.
func (r *rig) query(client string, p event.Process) *event.Event {
	ev := r.mk("ws", event.KindDBQuery, p)
	ev.DB = &event.DB{Engine: "postgresql", Side: "client", Client: client, Server: dbAddr, Statement: "SELECT 1", Rows: 1}
	return ev
}

// transfer is a workstation's report of an outbound TCP connection.
func (r *rig) transfer(src string, srcPort uint16, dst string, dstPort uint16, p event.Process) *event.Event {
	ev := r.mk("ws", event.KindNetTransfer, p)
	ev.Net = &event.Net{Proto: "tcp", Direction: "outbound", SrcIP: src, SrcPort: srcPort, DstIP: dst, DstPort: dstPort, BytesSent: 100}
	return ev
}

func (r *rig) take(ev *event.Event) []Out { return r.j.Take(ev, r.now) }

// ids lists the events handed on, starred when just judged.
func ids(out []Out) string {
	s := ""
	for _, o := range out {
		if s != "" {
			s += " "
		}
		s += o.Event.ID
		if o.Judged {
			s += "*"
		}
	}
	return s
}

func wantOut(t *testing.T, got []Out, want string) {
	t.Helper()
	if ids(got) != want {
		t.Fatalf("handed on %q, want %q", ids(got), want)
	}
}

func wantAttribution(t *testing.T, ev *event.Event, status, reason, person string) {
	t.Helper()
	a := ev.Attribution
	if a == nil {
		t.Fatalf("%s has no attribution, want %s", ev.ID, status)
	}
	if a.Status != status || a.Reason != reason || ev.Person() != person {
		t.Fatalf("%s attribution %s/%s person %q, want %s/%s %q", ev.ID, a.Status, a.Reason, ev.Person(), status, reason, person)
	}
}

// Java's TLS is its own: the workstation reports the connection but not its
// statements, so the server's copies are the person's, whichever report
// arrives first.
func TestUnreadableClientEitherOrder(t *testing.T) {
	t.Run("statements first", func(t *testing.T) {
		r := newRig(Options{})
		r.take(r.query("10.0.0.21:40000", psql)) // the workstation is known to run an agent
		s1, s2 := r.stmt(wsAddr), r.stmt(wsAddr)
		wantOut(t, r.take(s1), "")
		r.now = r.now.Add(5 * time.Second)
		wantOut(t, r.take(s2), "")
		if s := r.j.Stats(); s.Held != 2 {
			t.Fatalf("%d held, want 2", s.Held)
		}
		sess := r.session(wsAddr, java)
		wantOut(t, r.take(sess), s1.ID+"* "+s2.ID+"* "+sess.ID)
		for _, s := range []*event.Event{s1, s2} {
			wantAttribution(t, s, "attributed", "", "nadia")
			a := s.Attribution
			if a.Host != "host-ws" || a.Site != "site-ws" || a.AgentID != "ws" || a.EventID != sess.ID || a.Comm != "java" || a.PID != 4242 || a.Session != 7 || a.By != "collector" {
				t.Fatalf("attribution %+v does not name the workstation's java", a)
			}
		}
		if s := r.j.Stats(); s.Held != 0 {
			t.Fatalf("%d still held", s.Held)
		}
	})
	t.Run("report first", func(t *testing.T) {
		r := newRig(Options{})
		sess := r.session(wsAddr, java)
		wantOut(t, r.take(sess), sess.ID)
		s := r.stmt(wsAddr)
		wantOut(t, r.take(s), s.ID+"*")
		wantAttribution(t, s, "attributed", "", "nadia")
	})
}

// A client whose statements its agent read: the server's copies are
// duplicates, whichever report arrives first.
func TestReadableClientIsADuplicate(t *testing.T) {
	r := newRig(Options{})
	q1 := r.query(wsAddr, psql)
	s1 := r.stmt(wsAddr)
	wantOut(t, r.take(q1), q1.ID)
	wantOut(t, r.take(s1), s1.ID+"*")
	wantAttribution(t, s1, "duplicate", "", "postgres")
	if s1.Attribution.LoginUser != "omar" {
		t.Fatalf("the duplicate does not name the client's person: %+v", s1.Attribution)
	}

	r2 := newRig(Options{})
	r2.take(r2.query("10.0.0.21:40000", psql))
	s2, q2 := r2.stmt(wsAddr), r2.query(wsAddr, psql)
	wantOut(t, r2.take(s2), "")
	wantOut(t, r2.take(q2), s2.ID+"* "+q2.ID)
	wantAttribution(t, s2, "duplicate", "", "postgres")
}

// A client that stops being readable (a parser that gave up) is a
// duplicate until then and attributed after.
func TestClientUnreadableFromThen(t *testing.T) {
	r := newRig(Options{})
	r.take(r.query(wsAddr, psql))
	r.now = r.now.Add(time.Minute)
	r.take(r.session(wsAddr, psql))
	before := r.stmt(wsAddr)
	before.Time = t0.Add(30 * time.Second)
	after := r.stmt(wsAddr)
	after.Time = t0.Add(90 * time.Second)
	r.take(before)
	r.take(after)
	wantAttribution(t, before, "duplicate", "", "postgres")
	wantAttribution(t, after, "attributed", "", "omar")
}

// No agent reports from the address the server sees (NAT, a bastion, an
// application server without an agent): the first statement waits its
// grace period in case the workstation's agent is just slow to report;
// once one has, the address's later statements are judged at once and do
// not fill the queue, until an agent reports from there.
func TestNoAgentAtTheClientAddress(t *testing.T) {
	r := newRig(Options{Grace: 20 * time.Second})
	first := r.stmt("203.0.113.7:40001")
	wantOut(t, r.take(first), "")
	r.now = r.now.Add(20 * time.Second)
	wantOut(t, r.j.Expire(r.now), first.ID+"*")
	wantAttribution(t, first, "unjoined", "no_agent", "postgres")

	next := r.stmt("203.0.113.7:40002")
	wantOut(t, r.take(next), next.ID+"*")
	wantAttribution(t, next, "unjoined", "no_agent", "postgres")

	r.take(r.transfer("203.0.113.7", 40100, "93.184.216.34", 443, java)) // an agent there after all
	last := r.stmt("203.0.113.7:40003")
	wantOut(t, r.take(last), "")
}

// A workstation never seen before whose first connection's statements
// arrive ahead of any report of its agent: they wait, and are joined.
func TestNewWorkstationReportedLate(t *testing.T) {
	r := newRig(Options{})
	s := r.stmt(wsAddr)
	wantOut(t, r.take(s), "")
	r.now = r.now.Add(10 * time.Second)
	sess := r.session(wsAddr, java)
	wantOut(t, r.take(sess), s.ID+"* "+sess.ID)
	wantAttribution(t, s, "attributed", "", "nadia")
}

// An agent reports from the address, but not this connection: the
// statement waits the grace period, then is judged unjoined.
func TestNoReportExpires(t *testing.T) {
	r := newRig(Options{Grace: 20 * time.Second})
	r.take(r.query("10.0.0.21:40000", psql))
	s := r.stmt(wsAddr)
	wantOut(t, r.take(s), "")
	r.now = r.now.Add(19 * time.Second)
	wantOut(t, r.j.Expire(r.now), "")
	r.now = r.now.Add(time.Second)
	wantOut(t, r.j.Expire(r.now), s.ID+"*")
	wantAttribution(t, s, "unjoined", "no_report", "postgres")
}

// A dual-stack server names its client as an IPv4-mapped address; the
// workstation names itself in plain IPv4, or the other way round.
func TestIPv4MappedMatchesIPv4(t *testing.T) {
	r := newRig(Options{})
	r.take(r.session(wsAddr, java))
	s := r.stmt("[::ffff:10.0.0.21]:50432")
	s.DB.Server = "[::ffff:10.0.0.5]:5432"
	wantOut(t, r.take(s), s.ID+"*")
	wantAttribution(t, s, "attributed", "", "nadia")

	r2 := newRig(Options{})
	sess := r2.session("[::ffff:10.0.0.21]:50432", java)
	r2.take(sess)
	s2 := r2.stmt(wsAddr)
	r2.take(s2)
	wantAttribution(t, s2, "attributed", "", "nadia")
}

// Every host has its own loopback: a loopback client end matches only the
// server end the same agent reported.
func TestLoopbackIsPerHost(t *testing.T) {
	r := newRig(Options{Grace: time.Second})
	sess := r.session("127.0.0.1:50432", java) // agent ws
	sess.DB.Server = "127.0.0.1:5432"
	r.take(sess)
	other := r.stmt("127.0.0.1:50432") // agent db: another host
	other.DB.Server = "127.0.0.1:5432"
	wantOut(t, r.take(other), "") // an agent is on that host (db's own): it waits
	r.now = r.now.Add(time.Second)
	wantOut(t, r.j.Expire(r.now), other.ID+"*")
	wantAttribution(t, other, "unjoined", "no_report", "postgres")

	same := r.mk("ws", event.KindDBQuery, backend)
	same.DB = &event.DB{Engine: "postgresql", Side: "server", Client: "127.0.0.1:50432", Server: "127.0.0.1:5432"}
	wantOut(t, r.take(same), same.ID+"*")
	wantAttribution(t, same, "attributed", "", "nadia")
}

// A workstation that only reports the TCP connection (its database sensor
// off, or the port unknown to it): the statement waits in case the
// statements are reported after all, then is the connecting process's.
func TestNetTransferOnly(t *testing.T) {
	r := newRig(Options{Grace: 20 * time.Second})
	other := r.stmt("10.9.9.9:1") // the server's address becomes known
	r.take(other)
	tr := r.transfer("10.0.0.21", 50432, "10.0.0.5", 5432, java)
	r.take(tr)
	s := r.stmt(wsAddr)
	wantOut(t, r.take(s), "")
	r.now = r.now.Add(20 * time.Second)
	wantOut(t, r.j.Expire(r.now), other.ID+"* "+s.ID+"*")
	wantAttribution(t, s, "attributed", "", "nadia")
	if s.Attribution.EventID != tr.ID {
		t.Fatalf("joined on %s, want the transfer %s", s.Attribution.EventID, tr.ID)
	}

	// Its statements reported within the grace period make it a duplicate.
	const client = "10.0.0.21:50433"
	r.take(r.transfer("10.0.0.21", 50433, "10.0.0.5", 5432, psql))
	s2 := r.stmt(client)
	wantOut(t, r.take(s2), "")
	q := r.query(client, psql)
	wantOut(t, r.take(q), s2.ID+"* "+q.ID)
	wantAttribution(t, s2, "duplicate", "", "postgres")

	// Transfers to other places are not remembered as connections.
	r.take(r.transfer("10.0.0.21", 50434, "93.184.216.34", 443, java))
	if n := r.j.Stats().Conns; n != 2 {
		t.Fatalf("%d connections remembered, want the 2 to the database", n)
	}
}

// A client end reported more than Retain ago is forgotten.
func TestReportsExpire(t *testing.T) {
	r := newRig(Options{Retain: time.Hour, RetainAddrs: 24 * time.Hour, Grace: time.Second})
	r.take(r.session(wsAddr, java))
	r.now = r.now.Add(time.Hour + time.Second)
	r.j.Expire(r.now)
	if n := r.j.Stats().Conns; n != 0 {
		t.Fatalf("%d connections remembered after Retain", n)
	}
	s := r.stmt(wsAddr)
	wantOut(t, r.take(s), "")
	r.now = r.now.Add(time.Second)
	r.j.Expire(r.now)
	wantAttribution(t, s, "unjoined", "no_report", "postgres")

	// A day later the address is no longer known as an agent's.
	r.now = r.now.Add(24 * time.Hour)
	r.j.Expire(r.now)
	s2 := r.stmt(wsAddr)
	wantOut(t, r.take(s2), "")
	r.now = r.now.Add(time.Second)
	wantOut(t, r.j.Expire(r.now), s2.ID+"*")
	wantAttribution(t, s2, "unjoined", "no_agent", "postgres")
}

// The ports reused by another process for a new connection: the old
// connection's readability does not carry over.
func TestPortsReusedByAnotherProcess(t *testing.T) {
	r := newRig(Options{})
	r.take(r.query(wsAddr, psql))
	r.take(r.session(wsAddr, java))
	s := r.stmt(wsAddr)
	r.take(s)
	wantAttribution(t, s, "attributed", "", "nadia")
}

// The queue of waiting statements is bounded: the oldest is judged early,
// and counted.
func TestHeldQueueOverflows(t *testing.T) {
	r := newRig(Options{MaxHeld: 2})
	r.take(r.query("10.0.0.21:40000", psql))
	s1, s2, s3 := r.stmt(wsAddr), r.stmt(wsAddr), r.stmt(wsAddr)
	wantOut(t, r.take(s1), "")
	wantOut(t, r.take(s2), "")
	wantOut(t, r.take(s3), s1.ID+"*")
	wantAttribution(t, s1, "unjoined", "queue_full", "postgres")
	if st := r.j.Stats(); st.Overflowed != 1 || st.Held != 2 {
		t.Fatalf("stats %+v, want 1 overflowed and 2 held", st)
	}
	sess := r.session(wsAddr, java)
	wantOut(t, r.take(sess), s2.ID+"* "+s3.ID+"* "+sess.ID)
}

// The remembered connections are bounded; forgetting is counted.
func TestConnsBounded(t *testing.T) {
	r := newRig(Options{MaxConns: 2})
	for port := 50000; port < 50003; port++ {
		r.take(r.session(fmt.Sprintf("10.0.0.21:%d", port), java))
	}
	if st := r.j.Stats(); st.Conns != 2 || st.ConnsEvicted != 1 {
		t.Fatalf("stats %+v, want 2 connections and 1 evicted", st)
	}
}

// A statement delivered again while held (a batch whose commit failed) is
// held once; one judged before (read back after a restart) passes as it is;
// one without an ip:port client (a Unix socket) is judged at once.
func TestAlreadySeenAndUnaddressable(t *testing.T) {
	r := newRig(Options{})
	r.take(r.query("10.0.0.21:40000", psql))
	s := r.stmt(wsAddr)
	r.take(s)
	again := *s
	wantOut(t, r.take(&again), "")
	if n := r.j.Stats().Held; n != 1 {
		t.Fatalf("%d held, want 1", n)
	}

	judged := r.stmt("203.0.113.7:1")
	judged.Attribution = &event.Attribution{Status: event.AttributionDuplicate}
	wantOut(t, r.take(judged), judged.ID)

	sock := r.stmt("/run/postgresql/.s.PGSQL.5432")
	wantOut(t, r.take(sock), sock.ID+"*")
	wantAttribution(t, sock, "unjoined", "no_address", "postgres")
}

// Events other than server-side statements pass through in order.
func TestOtherEventsPass(t *testing.T) {
	r := newRig(Options{})
	fw := r.mk("ws", event.KindFileWrite, java)
	fw.File = &event.File{Path: "/tmp/x"}
	wantOut(t, r.take(fw), fw.ID)
	al := r.mk("db", event.KindAlert, backend)
	al.Alert = &event.Alert{Rule: "x"}
	wantOut(t, r.take(al), al.ID)
	if fw.Attribution != nil || al.Attribution != nil {
		t.Fatal("attribution set on an event that is not a server-side statement")
	}
}

// Judgements whose storing failed are taken back and made again at the next
// Expire; a copy of one delivered again and judged at once lets the held
// copy go, so each statement is handed on judged once.
func TestReholdAfterAFailedStore(t *testing.T) {
	r := newRig(Options{Grace: 20 * time.Second})
	early := r.stmt(wsAddr)
	wantOut(t, r.take(early), "")
	r.now = r.now.Add(time.Second)
	s := r.session(wsAddr, java)
	wantOut(t, r.take(s), "db-1* ws-2")
	late := r.stmt(wsAddr)
	wantOut(t, r.take(late), "db-3*")

	// The batch of the session and the late statement did not commit.
	r.j.Rehold([]*event.Event{early, late})
	if early.Attribution != nil || r.j.Stats().Held != 2 {
		t.Fatalf("after Rehold: attribution %+v, %d held; want none and 2", early.Attribution, r.j.Stats().Held)
	}
	// That batch comes again: its late statement, a new copy, is judged
	// at once and lets its held copy go; the early one is judged at the
	// next Expire, not a grace period later.
	again := *late
	again.Attribution = nil
	wantOut(t, r.take(&again), "db-3*")
	wantOut(t, r.j.Expire(r.now), "db-1*")
	wantAttribution(t, early, event.AttributionAttributed, "", "nadia")
	wantOut(t, r.j.Expire(r.now.Add(time.Hour)), "")
}

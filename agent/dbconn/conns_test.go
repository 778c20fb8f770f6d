package dbconn

import (
	"math/rand"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
	"github.com/vigilhq/vigil/agent/enrich"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/event"
)

var (
	clientAddr = netip.MustParseAddrPort("10.0.0.2:40000")
	serverAddr = netip.MustParseAddrPort("10.0.0.3:5432")
)

// newConns follows connections with opts, redacting with a test key.
func newConns(t testing.TB, opts Options) *Conns {
	t.Helper()
	r, err := redact.New(redact.Config{Key: []byte("test-key-0123456789")})
	if err != nil {
		t.Fatal(err)
	}
	opts.Redactor = r
	clock := enrich.NewClock()
	return New(opts, enrich.NewTable(enrich.HostPaths, enrich.NewUsers(), clock), clock)
}

// boottime is now on the kernel's boot-time clock, as the sensor stamps.
func boottime(t testing.TB) uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		t.Fatal(err)
	}
	return uint64(ts.Nano())
}

// records turns captures into the sensor's records on socket sock, as the
// client (server false) or the server process sees them.
func records(t testing.TB, sock uint64, server bool, caps ...dbwiretest.Capture) []*db.Data {
	conn := db.Conn{Sock: sock, Local: clientAddr, Remote: serverAddr}
	if server {
		conn.Local, conn.Remote = serverAddr, clientAddr
	}
	pid := uint32(os.Getpid())
	now := boottime(t)
	var out []*db.Data
	for i, c := range caps {
		out = append(out, &db.Data{
			Header: sensor.Header{Type: db.RecData, PID: pid, TID: pid, TS: now + uint64(i+1)*1000, Comm: "psql"},
			Conn:   conn, Len: len(c.Data), Data: c.Data, Sent: c.FromClient != server,
		})
	}
	return out
}

func captures(xs ...dbwiretest.Exchange) []dbwiretest.Capture {
	var out []dbwiretest.Capture
	for _, x := range xs {
		out = append(out, x.Request, x.Response)
	}
	return out
}

// feed gives c every record and returns copies of the events it made.
func feed(c *Conns, recs []*db.Data) []*event.Event {
	var out []*event.Event
	for _, d := range recs {
		out = append(out, c.Data(d)...)
	}
	return out
}

func closeRec(t testing.TB, sock uint64) *db.Close {
	return &db.Close{Header: sensor.Header{Type: db.RecClose, TS: boottime(t)}, Conn: db.Conn{Sock: sock}}
}

// runsOf counts the statement runs events stand for.
func runsOf(evs []*event.Event) (n uint64) {
	for _, ev := range evs {
		if ev.Kind == event.KindDBQuery {
			n += ev.DB.Runs()
		}
	}
	return n
}

// Every statement on a client end becomes a db.query with what the
// connection knows: side, ends, engine, the process, its user.
func TestDataReportsEveryStatement(t *testing.T) {
	c := newConns(t, Options{})
	xs := dbwiretest.PgbenchSimple(rand.New(rand.NewSource(1)), 3)
	evs := feed(c, records(t, 1, false, captures(append([]dbwiretest.Exchange{dbwiretest.PgStartup("alice", "shop")}, xs...)...)...))
	if len(evs) != len(xs) {
		t.Fatalf("%d events for %d statements", len(evs), len(xs))
	}
	for _, ev := range evs {
		d := ev.DB
		if ev.Kind != event.KindDBQuery || d.Side != "client" || d.Engine != "postgresql" || d.User != "alice" ||
			d.Client != clientAddr.String() || d.Server != serverAddr.String() || ev.Process.PID != uint32(os.Getpid()) {
			t.Fatalf("event %+v with %+v", ev, d)
		}
	}
	if !strings.Contains(evs[1].DB.Statement, "pgbench_accounts") || strings.Contains(evs[1].DB.Statement, "+ -") {
		t.Errorf("second statement %q, want pgbench's accounts update, redacted", evs[1].DB.Statement)
	}
}

// Repeats fold while the connection is open and are all reported when it
// closes: no run is lost or counted twice.
func TestCloseReportsFoldedRuns(t *testing.T) {
	c := newConns(t, Options{FoldWindow: time.Hour})
	xs := dbwiretest.PgbenchSimple(rand.New(rand.NewSource(1)), 50)
	evs := feed(c, records(t, 7, false, captures(append([]dbwiretest.Exchange{dbwiretest.PgStartup("alice", "shop")}, xs...)...)...))
	if len(evs) >= len(xs)/2 {
		t.Fatalf("%d events for %d statements of one shape each: repeats were not folded", len(evs), len(xs))
	}
	evs = append(evs, c.Close(closeRec(t, 7))...)
	if n := runsOf(evs); n != uint64(len(xs)) {
		t.Errorf("events stand for %d runs, want %d", n, len(xs))
	}
	if more := c.Close(closeRec(t, 7)); len(more) != 0 {
		t.Errorf("a second close of the socket reported %d events", len(more))
	}
}

// The server end of a local connection is left to its client end once the
// client end reads the session: its statements are not reported again,
// and it is muted once. With BothEnds, both are reported.
func TestServerEndLeftToLocalClient(t *testing.T) {
	xs := captures(dbwiretest.PgStartup("alice", "shop"), dbwiretest.PgbenchSimple(rand.New(rand.NewSource(1)), 1)[0])
	for _, both := range []bool{false, true} {
		var mutes []db.Conn
		c := newConns(t, Options{BothEnds: both, Mute: func(end db.Conn) error { mutes = append(mutes, end); return nil }})
		client, server := records(t, 1, false, xs...), records(t, 2, true, xs...)
		var evs []*event.Event
		for i := range client {
			evs = append(evs, c.Data(client[i])...)
			evs = append(evs, c.Data(server[i])...)
		}
		sides := map[string]int{}
		for _, ev := range evs {
			sides[ev.DB.Side]++
		}
		switch {
		case !both && (sides["client"] != 1 || sides["server"] != 0 || len(mutes) != 1 || mutes[0].Sock != 2):
			t.Errorf("one end: statements by side %v, mutes %+v; want the client's only and socket 2 muted once", sides, mutes)
		case both && (sides["client"] != 1 || sides["server"] != 1 || len(mutes) != 0):
			t.Errorf("both ends: statements by side %v, mutes %+v; want one each and no mute", sides, mutes)
		}
	}
}

// statementRun gives c one run of ev's statement on connection sock, as a
// tracker's record would, and returns copies of the events it made.
func statementRun(c *Conns, sock uint64, ev *event.Event) []*event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.begin()
	c.statement(sock, ev.DB, ev.Time, ev.Process)
	return append([]*event.Event(nil), c.out...)
}

// Before returns the runs held for one process, so its next other event
// follows them; other processes' runs, the same person's included, stay
// folded, and the window stays open.
func TestBeforeReturnsTheProcessRuns(t *testing.T) {
	c := New(Options{FoldWindow: time.Hour}, nil, enrich.Clock{})
	var evs []*event.Event
	for i := range 5 {
		evs = append(evs, statementRun(c, 1, run("alice", "SELECT * FROM customers", time.Duration(i)*time.Millisecond, 100))...)
		other := run("alice", "SELECT * FROM orders", time.Duration(i)*time.Millisecond, 7)
		other.Process.PID = 200
		evs = append(evs, statementRun(c, 2, other)...)
	}
	if len(evs) != 2 {
		t.Fatalf("%d events, want the two first runs", len(evs))
	}
	held := c.Before(100)
	if len(held) != 1 || held[0].Process.PID != 100 || held[0].DB.Executions != 4 || held[0].DB.Rows != 400 {
		t.Fatalf("before process 100's event: %d events, first %+v; want its 4 folded runs", len(held), held)
	}
	evs = append(evs, held...)
	if again := c.Before(100); len(again) != 0 {
		t.Errorf("a second Before returned %d events", len(again))
	}
	if more := statementRun(c, 1, run("alice", "SELECT * FROM customers", 2*time.Second, 100)); len(more) != 0 {
		t.Errorf("a run after Before was reported at once (%d events); want it folded", len(more))
	}
	evs = append(evs, c.Stop()...)
	if n, rows := runs(evs); n != 11 || rows != 5*100+5*7+100 {
		t.Errorf("after Stop, events stand for %d runs and %d rows, want 11 and %d", n, rows, 5*100+5*7+100)
	}
	if after := statementRun(c, 1, run("alice", "SELECT * FROM customers", 3*time.Second, 1)); len(after) != 1 {
		t.Errorf("a run after Stop gave %d events, want it reported on its own", len(after))
	}
}

// With no further statement, Due is signalled when a window ends, and
// Expire returns its runs.
func TestDueSignalsTheEndOfAWindow(t *testing.T) {
	c := New(Options{FoldWindow: 50 * time.Millisecond}, nil, enrich.Clock{})
	defer c.Stop()
	now := time.Now()
	var evs []*event.Event
	for i := range 3 {
		ev := run("alice", "SELECT 1", 0, 1)
		ev.Time = now.Add(time.Duration(i) * time.Millisecond)
		evs = append(evs, statementRun(c, 1, ev)...)
	}
	if len(evs) != 1 || evs[0].DB.Executions != 0 {
		t.Fatalf("%d events, want the first run alone", len(evs))
	}
	select {
	case <-c.Due():
	case <-time.After(10 * time.Second):
		t.Fatal("Due not signalled 10 s after a 50 ms window ended")
	}
	got := c.Expire(time.Now())
	if len(got) != 1 || got[0].DB.Executions != 2 {
		t.Fatalf("Expire gave %d events, want one fold of 2 executions", len(got))
	}
}

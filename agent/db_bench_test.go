package agent

import (
	"io"
	"log/slog"
	"math/rand"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigilhq/vigil/agent/dbconn"
	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/event"
)

// countSink counts db.query events, and the runs they stand for, and
// touches their payload.
type countSink struct{ queries, runs, bytes int }

func (s *countSink) Publish(ev *event.Event) error {
	if ev.Kind == event.KindDBQuery {
		s.queries++
		s.runs += max(int(ev.DB.Executions), 1)
		s.bytes += len(ev.DB.Statement) + len(ev.DB.Client) + len(ev.DB.Server)
	}
	return nil
}

// dbRecords turns captures into the records the sensor decodes, as seen by
// the client or by the server process.
func dbRecords(caps []dbwiretest.Capture, server bool, port uint16) []*db.Data {
	client := netip.MustParseAddrPort("10.0.0.2:40000")
	srv := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.3"), port)
	conn := db.Conn{Sock: 0xffff8880deadbeef, Local: client, Remote: srv}
	if server {
		conn.Local, conn.Remote = srv, client
	}
	pid := uint32(os.Getpid())
	// Stamped now (the kernel's boot-time clock), as the sensor stamps
	// them: fold windows then end when they would.
	var now unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &now); err != nil {
		panic(err)
	}
	var out []*db.Data
	for i, c := range caps {
		out = append(out, &db.Data{
			Header: sensor.Header{Type: db.RecData, PID: pid, TID: pid, TS: uint64(now.Nano()) + uint64(i+1)*1000, Comm: "pgbench"},
			Conn:   conn, Len: len(c.Data), Data: c.Data, Sent: c.FromClient != server,
		})
	}
	return out
}

func benchAgentDB(b *testing.B, server bool, port uint16, pro []dbwiretest.Capture, xs []dbwiretest.Exchange) {
	benchAgentDBFold(b, server, port, pro, xs, 0)
}

// benchAgentDBFold is benchAgentDB with statement folding over window.
func benchAgentDBFold(b *testing.B, server bool, port uint16, pro []dbwiretest.Capture, xs []dbwiretest.Exchange,
	window time.Duration) {
	r, err := redact.New(redact.Config{Key: []byte("bench-key")})
	if err != nil {
		b.Fatal(err)
	}
	sink := &countSink{}
	a := New(Options{Sink: sink, DB: dbconn.Options{Redactor: r, FoldWindow: window},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var caps []dbwiretest.Capture
	for _, x := range xs {
		caps = append(caps, x.Request, x.Response)
	}
	for _, d := range dbRecords(pro, server, port) {
		a.handle(d)
	}
	recs := dbRecords(caps, server, port)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := 2 * (i % len(xs))
		a.handle(recs[j])
		a.handle(recs[j+1])
	}
	b.StopTimer()
	a.emitAll(a.db.Stop()) // reports the runs folds hold
	if sink.runs < b.N {
		b.Fatalf("%d db.query events standing for %d runs, for %d statements", sink.queries, sink.runs, b.N)
	}
}

func pgBenchPrologue() []dbwiretest.Capture {
	s := dbwiretest.PgStartup("bench", "bench")
	return []dbwiretest.Capture{s.Request, s.Response}
}

func BenchmarkAgentDBPgbenchClient(b *testing.B) {
	benchAgentDB(b, false, 5432, pgBenchPrologue(), dbwiretest.PgbenchSimple(rand.New(rand.NewSource(1)), 512))
}

// BenchmarkAgentDBPgbenchFolded is the client end with statement folding
// on, as the agent runs: most runs fold into the one before.
func BenchmarkAgentDBPgbenchFolded(b *testing.B) {
	benchAgentDBFold(b, false, 5432, pgBenchPrologue(), dbwiretest.PgbenchSimple(rand.New(rand.NewSource(1)), 512), time.Second)
}

func BenchmarkAgentDBPgbenchServer(b *testing.B) {
	benchAgentDB(b, true, 5432, pgBenchPrologue(), dbwiretest.PgbenchSimple(rand.New(rand.NewSource(1)), 512))
}

func BenchmarkAgentDBPgbenchExtended(b *testing.B) {
	benchAgentDB(b, false, 5432, pgBenchPrologue(), dbwiretest.PgbenchExtended(rand.New(rand.NewSource(1)), 512, false))
}

func BenchmarkAgentDBMySQL(b *testing.B) {
	benchAgentDB(b, false, 3306, dbwiretest.MySQLHandshake("bench", "bench"), dbwiretest.MySQLQueries(rand.New(rand.NewSource(1)), 512))
}

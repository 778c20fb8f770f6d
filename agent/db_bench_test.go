package agent

import (
	"io"
	"log/slog"
	"math/rand"
	"net/netip"
	"os"
	"testing"

	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/event"
)

// countSink counts db.query events and touches their payload.
type countSink struct{ queries, bytes int }

func (s *countSink) Publish(ev *event.Event) error {
	if ev.Kind == event.KindDBQuery {
		s.queries++
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
	var out []*db.Data
	for i, c := range caps {
		out = append(out, &db.Data{
			Header: sensor.Header{Type: db.RecData, PID: pid, TID: pid, TS: uint64(i+1) * 1000, Comm: "pgbench"},
			Conn:   conn, Len: len(c.Data), Data: c.Data, Sent: c.FromClient != server,
		})
	}
	return out
}

func benchAgentDB(b *testing.B, server bool, port uint16, pro []dbwiretest.Capture, xs []dbwiretest.Exchange) {
	r, err := redact.New(redact.Config{Key: []byte("bench-key")})
	if err != nil {
		b.Fatal(err)
	}
	sink := &countSink{}
	a := New(Options{Sink: sink, DB: DBOptions{Redactor: r},
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
	if sink.queries < b.N {
		b.Fatalf("%d db.query events for %d statements", sink.queries, b.N)
	}
}

func pgBenchPrologue() []dbwiretest.Capture {
	s := dbwiretest.PgStartup("bench", "bench")
	return []dbwiretest.Capture{s.Request, s.Response}
}

func BenchmarkAgentDBPgbenchClient(b *testing.B) {
	benchAgentDB(b, false, 5432, pgBenchPrologue(), dbwiretest.PgbenchSimple(rand.New(rand.NewSource(1)), 512))
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

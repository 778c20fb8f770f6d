package dbwire

import (
	"math/rand"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
)

// benchTracker feeds a tracker the exchanges in a loop, one statement (its
// request and response captures) per op, and checks every op yields a record
// with a statement.
func benchTracker(b *testing.B, engine string, prologue []dbwiretest.Capture, xs []dbwiretest.Exchange) {
	tr, err := NewTracker(Config{Engine: engine, Redactor: testRedactor(b)})
	if err != nil {
		b.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	feed := func(c dbwiretest.Capture) []Record {
		ts = ts.Add(time.Microsecond)
		dir := ServerToClient
		if c.FromClient {
			dir = ClientToServer
		}
		return tr.Feed(dir, ts, c.Data)
	}
	for _, c := range prologue {
		feed(c)
	}
	var sink int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x := xs[i%len(xs)]
		feed(x.Request)
		for _, r := range feed(x.Response) {
			sink += len(r.DB.Statement) + len(r.DB.Fingerprint)
		}
	}
	b.StopTimer()
	if sink == 0 || tr.Stats().Records < uint64(b.N) {
		b.Fatalf("%d records for %d statements", tr.Stats().Records, b.N)
	}
}

func pgPrologue() []dbwiretest.Capture {
	s := dbwiretest.PgStartup("bench", "bench")
	return []dbwiretest.Capture{s.Request, s.Response}
}

func BenchmarkPgbenchSimple(b *testing.B) {
	benchTracker(b, EnginePostgres, pgPrologue(), dbwiretest.PgbenchSimple(rand.New(rand.NewSource(1)), 512))
}

func BenchmarkPgbenchExtended(b *testing.B) {
	benchTracker(b, EnginePostgres, pgPrologue(), dbwiretest.PgbenchExtended(rand.New(rand.NewSource(1)), 512, false))
}

func BenchmarkPgbenchPrepared(b *testing.B) {
	xs := dbwiretest.PgbenchExtended(rand.New(rand.NewSource(1)), 513, true)
	// The first transaction parses the named statements: replay only the
	// later ones.
	pro := pgPrologue()
	for _, x := range xs[:7] {
		pro = append(pro, x.Request, x.Response)
	}
	benchTracker(b, EnginePostgres, pro, xs[7:])
}

func BenchmarkMySQLQueries(b *testing.B) {
	benchTracker(b, EngineMySQL, dbwiretest.MySQLHandshake("bench", "bench"), dbwiretest.MySQLQueries(rand.New(rand.NewSource(1)), 512))
}

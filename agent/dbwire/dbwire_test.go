package dbwire

import (
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/testdb"
)

func headTailReplay(t *testing.T, engine string, chunks []testdb.Chunk, limit int) []Record {
	tr, err := NewTracker(Config{Engine: engine, Redactor: testRedactor(t)})
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for _, c := range chunks {
		dir := ServerToClient
		if c.FromClient {
			dir = ClientToServer
		}
		if len(c.Data) <= 2*limit {
			recs = append(recs, tr.Feed(dir, c.Time, c.Data)...)
			continue
		}
		recs = append(recs, tr.FeedHeadTail(dir, c.Time, c.Data[:limit], len(c.Data)-2*limit, c.Data[len(c.Data)-limit:])...)
	}
	return append(recs, tr.Close(time.Now())...)
}

// Capturing the first and last bytes of each recv keeps row counts of large
// results exact: PostgreSQL from the CommandComplete tag, MySQL from packet
// sequence ids and the average row size.
func TestHeadTailCapture(t *testing.T) {
	for _, c := range []struct{ engine, fixture string }{
		{EnginePostgres, "postgres_session.json"},
		{EngineMySQL, "mysql_session.json"},
	} {
		chunks := loadFixture(t, c.fixture)
		full, _ := replay(t, c.engine, chunks, nil)
		for _, limit := range []int{2048, 512} {
			recs := headTailReplay(t, c.engine, chunks, limit)
			assertNoMarker(t, recs)
			if len(recs) != len(full) {
				t.Fatalf("%s limit %d: %d records, want %d", c.engine, limit, len(recs), len(full))
			}
			for i, r := range recs {
				if r.DB.Statement != full[i].DB.Statement || r.DB.Rows != full[i].DB.Rows || r.DB.Bytes != full[i].DB.Bytes {
					t.Errorf("%s limit %d: %q rows %d bytes %d, want %d %d", c.engine, limit, r.DB.Statement,
						r.DB.Rows, r.DB.Bytes, full[i].DB.Rows, full[i].DB.Bytes)
				}
			}
		}
	}
}

package dbwire

import (
	"math/rand"
	"testing"

	"github.com/vigilhq/vigil/internal/testdb"
)

// A tracker started mid-connection reports the statements after it started.
func TestPostgresMidStream(t *testing.T) {
	chunks := loadFixture(t, "postgres_session.json")
	full, _ := replay(t, EnginePostgres, chunks, nil)
	for skip := 1; skip < len(chunks); skip++ {
		recs, _ := replay(t, EnginePostgres, chunks[skip:], nil)
		assertNoMarker(t, recs)
		// Every statement that started after the skip point is reported.
		first := chunks[skip].Time
		var want []string
		for _, f := range full {
			if f.Start.After(first) {
				want = append(want, f.DB.Statement)
			}
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.DB.Statement)
		}
		j := 0
		for _, g := range got {
			// "" is a statement prepared before the tracker started.
			if j < len(want) && (g == want[j] || g == "") {
				j++
			}
		}
		if j != len(want) {
			t.Errorf("skip %d: got %q, want to include %q", skip, got, want)
		}
	}
}

// Garbage before a connection's bytes is survived.
func TestPostgresGarbage(t *testing.T) {
	chunks := loadFixture(t, "postgres_session.json")
	full, _ := replay(t, EnginePostgres, chunks, nil)
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 50; i++ {
		junk := make([]byte, rng.Intn(5000))
		rng.Read(junk)
		g := append([]testdb.Chunk{{FromClient: rng.Intn(2) == 0, Time: chunks[0].Time, Data: junk}}, chunks[3:]...)
		recs, _ := replay(t, EnginePostgres, g, rand.New(rand.NewSource(int64(i))))
		if len(recs) < len(full)-3 {
			t.Errorf("after %d bytes of junk: %d records, want at least %d", len(junk), len(recs), len(full)-3)
		}
	}
}

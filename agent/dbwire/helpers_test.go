package dbwire

import (
	"encoding/json"
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite recorded fixtures in testdata from real servers")

const marker = "MARKER-7f3a9"

func testRedactor(t testing.TB) *redact.Redactor {
	t.Helper()
	r, err := redact.New(redact.Config{Key: []byte("test-deployment-key"), IdentifierColumns: []string{"customers.id", "email"}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// replay feeds recorded chunks of one connection to a new tracker. With rng
// set, each chunk is cut at random points into several Feed calls.
func replay(t testing.TB, engine string, chunks []testdb.Chunk, rng *rand.Rand) ([]Record, *Tracker) {
	t.Helper()
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
		data := c.Data
		for len(data) > 0 {
			n := len(data)
			if rng != nil {
				n = 1 + rng.Intn(min(len(data), 1+rng.Intn(64)))
			}
			recs = append(recs, tr.Feed(dir, c.Time, data[:n])...)
			data = data[n:]
		}
	}
	recs = append(recs, tr.Close(time.Now())...)
	return recs, tr
}

func connChunks(chunks []testdb.Chunk, conn int) []testdb.Chunk {
	var out []testdb.Chunk
	for _, c := range chunks {
		if c.Conn == conn {
			out = append(out, c)
		}
	}
	return out
}

func saveFixture(t *testing.T, name string, chunks []testdb.Chunk) {
	b, err := json.MarshalIndent(chunks, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func loadFixture(t *testing.T, name string) []testdb.Chunk {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("reading fixture (regenerate with go test -run Live -update): %v", err)
	}
	var chunks []testdb.Chunk
	if err := json.Unmarshal(b, &chunks); err != nil {
		t.Fatal(err)
	}
	return chunks
}

func findRecord(t *testing.T, recs []Record, stmtPrefix string) Record {
	t.Helper()
	for _, r := range recs {
		if strings.HasPrefix(r.DB.Statement, stmtPrefix) {
			return r
		}
	}
	var have []string
	for _, r := range recs {
		have = append(have, r.DB.Statement)
	}
	t.Fatalf("no record with statement %q; have:\n%s", stmtPrefix, strings.Join(have, "\n"))
	return Record{}
}

func assertNoMarker(t *testing.T, recs []Record) {
	t.Helper()
	b, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(string(b)), strings.ToLower(marker)) {
		t.Fatalf("marker %s appears in records: %s", marker, b)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func testdbBinary(t *testing.T, glob string) string {
	m, _ := filepath.Glob(glob)
	if len(m) == 0 {
		testenv.Skipf(t, "%s not installed", glob)
	}
	return m[len(m)-1]
}

func sameRecords(a, b []Record) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// truncatedReplay replays chunks with server chunks cut to limit bytes, as a sensor
// capturing only the first bytes of each recv would.
func truncatedReplay(t *testing.T, engine string, chunks []testdb.Chunk, limit int) ([]Record, *Tracker) {
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
		n := min(len(c.Data), limit)
		recs = append(recs, tr.FeedTruncated(dir, c.Time, c.Data[:n], len(c.Data))...)
	}
	return append(recs, tr.Close(time.Now())...), tr
}

// exchange replays a hand-built connection: prologue (a startup or
// handshake from dbwiretest), then captures alternating from the client and
// the server, then Close.
func exchange(t *testing.T, engine string, prologue []dbwiretest.Capture, captures ...[]byte) ([]Record, *Tracker) {
	t.Helper()
	ts := time.Unix(1700000000, 0).UTC()
	var chunks []testdb.Chunk
	add := func(fromClient bool, data []byte) {
		ts = ts.Add(time.Millisecond)
		chunks = append(chunks, testdb.Chunk{FromClient: fromClient, Time: ts, Data: data})
	}
	for _, c := range prologue {
		add(c.FromClient, c.Data)
	}
	for i, c := range captures {
		add(i%2 == 0, c)
	}
	return replay(t, engine, chunks, nil)
}

// join concatenates wire messages into one capture.
func join(msgs ...[]byte) []byte {
	var out []byte
	for _, m := range msgs {
		out = append(out, m...)
	}
	return out
}

func cstr(s string) []byte { return append([]byte(s), 0) }

func statements(recs []Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.DB.Statement)
	}
	return out
}

package dbwire

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/internal/testdb"
)

// goldenCase is one replay whose records must not change.
type goldenCase struct {
	name   string
	engine string
	chunks []testdb.Chunk
	// mode: "whole", "split" (random cuts), "trunc" (first limit bytes),
	// "headtail" (first and last limit bytes).
	mode  string
	limit int
}

func goldenCases(t *testing.T) []goldenCase {
	var cases []goldenCase
	fixtures := []struct{ engine, file string }{
		{EnginePostgres, "postgres_session.json"}, {EnginePostgres, "postgres_psql_session.json"},
		{EngineMySQL, "mysql_session.json"}, {EngineMySQL, "mysql_cli_session.json"},
	}
	for _, f := range fixtures {
		all := loadFixture(t, f.file)
		conns := map[int]bool{}
		for _, c := range all {
			conns[c.Conn] = true
		}
		for conn := range len(conns) + 1 {
			chunks := connChunks(all, conn)
			if len(chunks) == 0 {
				continue
			}
			for _, m := range []struct {
				mode  string
				limit int
			}{{"whole", 0}, {"split", 0}, {"trunc", 64}, {"trunc", 700}, {"headtail", 100}, {"headtail", 600}} {
				cases = append(cases, goldenCase{fmt.Sprintf("%s/%d/%s/%d", f.file, conn, m.mode, m.limit), f.engine, chunks, m.mode, m.limit})
			}
			if len(chunks) > 6 {
				cases = append(cases, goldenCase{fmt.Sprintf("%s/%d/mid", f.file, conn), f.engine, chunks[5:], "whole", 0})
			}
		}
	}
	gen := func(name, engine string, pro []dbwiretest.Capture, xs []dbwiretest.Exchange) {
		var chunks []testdb.Chunk
		ts := time.Unix(1700000000, 0).UTC()
		add := func(c dbwiretest.Capture) {
			ts = ts.Add(time.Millisecond)
			chunks = append(chunks, testdb.Chunk{FromClient: c.FromClient, Time: ts, Data: c.Data})
		}
		for _, c := range pro {
			add(c)
		}
		for _, x := range xs {
			add(x.Request)
			add(x.Response)
		}
		cases = append(cases, goldenCase{name, engine, chunks, "whole", 0}, goldenCase{name + "/split", engine, chunks, "split", 0},
			goldenCase{name + "/trunc", engine, chunks, "trunc", 40})
	}
	gen("pgbench-simple", EnginePostgres, pgPrologue(), dbwiretest.PgbenchSimple(rand.New(rand.NewSource(3)), 10))
	gen("pgbench-extended", EnginePostgres, pgPrologue(), dbwiretest.PgbenchExtended(rand.New(rand.NewSource(3)), 10, false))
	gen("pgbench-prepared", EnginePostgres, pgPrologue(), dbwiretest.PgbenchExtended(rand.New(rand.NewSource(3)), 10, true))
	gen("mysql-queries", EngineMySQL, dbwiretest.MySQLHandshake("u", "d"), dbwiretest.MySQLQueries(rand.New(rand.NewSource(3)), 10))
	return cases
}

func goldenReplay(t *testing.T, h hash.Hash, c goldenCase, r *redact.Redactor) {
	tr, err := NewTracker(Config{Engine: c.engine, Redactor: r})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(9))
	emit := func(recs []Record) {
		b, err := json.Marshal(recs)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	var last time.Time
	for _, ch := range c.chunks {
		dir := ServerToClient
		if ch.FromClient {
			dir = ClientToServer
		}
		last = ch.Time
		data := ch.Data
		switch {
		case c.mode == "split":
			for len(data) > 0 {
				n := 1 + rng.Intn(min(len(data), 1+rng.Intn(64)))
				emit(tr.Feed(dir, ch.Time, data[:n]))
				data = data[n:]
			}
		case c.mode == "trunc" && len(data) > c.limit:
			emit(tr.FeedTruncated(dir, ch.Time, data[:c.limit], len(data)))
		case c.mode == "headtail" && len(data) > 2*c.limit:
			emit(tr.FeedHeadTail(dir, ch.Time, data[:c.limit], len(data)-2*c.limit, data[len(data)-c.limit:]))
		default:
			emit(tr.Feed(dir, ch.Time, data))
		}
	}
	emit(tr.Close(last.Add(time.Second)))
	b, _ := json.Marshal([]any{tr.Stats(), tr.Session()})
	h.Write(b)
}

// fuzzSeeds returns the committed fuzz inputs of a tracker target.
func fuzzSeeds(t *testing.T, target string) [][]byte {
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "[]byte(") {
				s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(line, "[]byte("), ")"))
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				out = append(out, []byte(s))
			}
		}
	}
	return out
}

// fuzzReplay feeds a fuzz input as fuzzTracker does and hashes the records.
func fuzzReplay(t *testing.T, h hash.Hash, engine string, in []byte, r *redact.Redactor) {
	tr, err := NewTracker(Config{Engine: engine, Redactor: r, MaxMessage: 4096, MaxPending: 16})
	if err != nil {
		t.Fatal(err)
	}
	ts := replayCaptures(in, time.Unix(1700000000, 0).UTC(), func(dir Direction, ts time.Time, data []byte, totalLen int) {
		b, _ := json.Marshal(tr.FeedTruncated(dir, ts, data, totalLen))
		h.Write(b)
	})
	b, _ := json.Marshal(tr.Close(ts))
	h.Write(b)
}

// TestGoldenRecords checks the trackers report, field for field, what
// testdata/golden_records.txt recorded, on the recorded sessions (whole, cut
// at random, truncated, head and tail, joined mid-stream), the generated
// pgbench and MySQL workloads and the fuzz seeds (go test -run
// TestGoldenRecords -update-golden rewrites testdata/golden_records.txt; only
// do that for an intended change).
func TestGoldenRecords(t *testing.T) {
	r, err := redact.New(redact.Config{Key: []byte("golden"), IdentifierColumns: []string{"customers.id", "email", "aid"}})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range goldenCases(t) {
		h := sha256.New()
		goldenReplay(t, h, c, r)
		lines = append(lines, fmt.Sprintf("%s %x", c.name, h.Sum(nil)[:8]))
	}
	for _, target := range []string{"FuzzPostgresTracker", "FuzzMySQLTracker"} {
		engine := EnginePostgres
		if target == "FuzzMySQLTracker" {
			engine = EngineMySQL
		}
		for i, in := range fuzzSeeds(t, target) {
			h := sha256.New()
			fuzzReplay(t, h, engine, in, r)
			lines = append(lines, fmt.Sprintf("%s/%d %x", target, i, h.Sum(nil)[:8]))
		}
	}
	path := filepath.Join("testdata", "golden_records.txt")
	if *updateGolden {
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	i := 0
	for sc.Scan() {
		if i < len(lines) && sc.Text() != lines[i] {
			t.Errorf("records differ: have %q, golden %q", lines[i], sc.Text())
		}
		i++
	}
	if i != len(lines) {
		t.Fatalf("golden file has %d lines, want %d", i, len(lines))
	}
}

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden_records.txt from the current trackers")

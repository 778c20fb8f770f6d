package dbwire

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/testdb"
)

// Fuzz inputs are a run of captures: a flags byte (bit 0: from the server,
// bit 1: truncated), a 2-byte little-endian length, for truncated captures a
// 2-byte count of missing bytes, then the bytes.
func encodeCaptures(chunks []testdb.Chunk, limit int) []byte {
	var out []byte
	for _, c := range chunks {
		flags := byte(0)
		if !c.FromClient {
			flags |= 1
		}
		data := c.Data
		missing := 0
		if len(data) > limit {
			flags |= 2
			missing = min(len(data)-limit, 0xffff)
			data = data[:limit]
		}
		out = append(out, flags)
		out = binary.LittleEndian.AppendUint16(out, uint16(len(data)))
		if flags&2 != 0 {
			out = binary.LittleEndian.AppendUint16(out, uint16(missing))
		}
		out = append(out, data...)
	}
	return out
}

// replayCaptures feeds the captures encoded in in (see encodeCaptures) to
// feed one by one, a millisecond apart from start, and returns the last
// capture's time.
func replayCaptures(in []byte, start time.Time, feed func(dir Direction, ts time.Time, data []byte, totalLen int)) time.Time {
	ts := start
	for len(in) >= 3 {
		flags := in[0]
		n := int(binary.LittleEndian.Uint16(in[1:]))
		in = in[3:]
		missing := 0
		if flags&2 != 0 && len(in) >= 2 {
			missing = int(binary.LittleEndian.Uint16(in))
			in = in[2:]
		}
		n = min(n, len(in))
		dir := ClientToServer
		if flags&1 != 0 {
			dir = ServerToClient
		}
		ts = ts.Add(time.Millisecond)
		feed(dir, ts, in[:n], n+missing)
		in = in[n:]
	}
	return ts
}

func fuzzTracker(t *testing.T, engine string, in []byte) {
	tr, err := NewTracker(Config{Engine: engine, Redactor: testRedactor(t), MaxMessage: 4096, MaxPending: 16})
	if err != nil {
		t.Fatal(err)
	}
	ts := replayCaptures(in, time.Unix(1700000000, 0), func(dir Direction, ts time.Time, data []byte, totalLen int) {
		for _, r := range tr.FeedTruncated(dir, ts, data, totalLen) {
			if r.End.Before(r.Start) || r.DB.DurationMS < 0 || len(r.DB.Statement) > 4096 {
				t.Fatalf("bad record %+v", r)
			}
		}
	})
	tr.Close(ts)
	if len(tr.cursors) > 16 {
		t.Fatalf("unbounded state: %d cursors", len(tr.cursors))
	}
	m := tr.proto
	switch p := m.(type) {
	case *postgres:
		if len(p.ops) > 16 || len(p.stmts) > 17 || len(p.portals) > 17 {
			t.Fatalf("unbounded state: %d ops %d stmts %d portals", len(p.ops), len(p.stmts), len(p.portals))
		}
	case *mysql:
		if len(p.stmts) > 17 {
			t.Fatalf("unbounded state: %d stmts", len(p.stmts))
		}
	}
}

func FuzzPostgresTracker(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) { fuzzTracker(t, EnginePostgres, in) })
}

func FuzzMySQLTracker(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) { fuzzTracker(t, EngineMySQL, in) })
}

// TestWriteFuzzSeeds regenerates the committed seed corpus from the recorded
// sessions (go test -run TestWriteFuzzSeeds -update).
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/fuzz from the fixtures")
	}
	seeds := map[string][]string{
		"FuzzPostgresTracker": {"postgres_session.json"},
		"FuzzMySQLTracker":    {"mysql_session.json", "mysql_cli_session.json"},
	}
	written := map[string]bool{}
	for target, fixtures := range seeds {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, fx := range fixtures {
			chunks := loadFixture(t, fx)
			for i, limit := range []int{128, 1024} {
				// Sessions with captures cut short, so seeds stay small
				// (the fuzzer minimises slowly on large inputs), and the
				// start of each as a separate seed.
				for j, part := range [][]testdb.Chunk{chunks, chunks[:min(len(chunks), 12)]} {
					if limit > 128 && j == 0 {
						continue
					}
					b := encodeCaptures(part, limit)
					if written[string(b)] {
						continue
					}
					written[string(b)] = true
					name := filepath.Join(dir, fmt.Sprintf("%s-%d-%d", fx[:len(fx)-5], i, j))
					if err := os.WriteFile(name, []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
}

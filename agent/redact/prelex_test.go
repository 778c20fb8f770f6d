package redact

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
)

// noPrelex returns a new Redactor for cfg without the pre-lex fast path:
// every statement is lexed.
func noPrelex(t testing.TB, cfg Config) *Redactor {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.prelex = nil
	return r
}

// pgbench's statements, once seen, are all answered without lexing, with
// the results the full path gives.
func TestPrelexPgbench(t *testing.T) {
	cfg := Config{Key: []byte("k"), IdentifierColumns: []string{"pgbench_accounts.aid", "tid", "delta"}}
	stmts := pgbenchStatements()
	for _, d := range []Dialect{Postgres, MySQL, MySQLNoBackslashEscapes} {
		r, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stmts[:14] {
			r.Redact(d, s)
		}
		before := r.prelex.hits.Load()
		for _, s := range stmts {
			got := r.Redact(d, s)
			if want := noPrelex(t, cfg).Redact(d, s); !reflect.DeepEqual(got, want) {
				t.Fatalf("%q (dialect %d):\n got %+v\nwant %+v", s, d, got, want)
			}
		}
		if n := r.prelex.hits.Load() - before; n != uint64(len(stmts)) {
			t.Errorf("dialect %d: %d of %d statements answered without lexing", d, n, len(stmts))
		}
	}
}

// Text outside the subset the scan handles is not eligible.
func TestPrelexScanBails(t *testing.T) {
	for _, sql := range []string{
		"SELECT 1 -- c", "SELECT /* c */ 1", "SELECT 1 # c", "SELECT \"a\" FROM t", "SELECT `a` FROM t",
		"SELECT 'a\\'b'", "SELECT 'a\\\\'", "SELECT $$x$$", "SELECT $t$x$t$", "SELECT a$1 FROM t", "SELECT $a",
		"SELECT E'x'", "SELECT e'x'", "SELECT B'01'", "SELECT X'ff'", "SELECT N'n'", "SELECT _utf8mb4'u'",
		"SELECT U&'u'", "SELECT 1'a'", "SELECT 'unterminated", "SELECT 'é'", "SELECT é FROM t", "SELECT '\x01'",
		"SELECT 1\x00", "SELECT 1e5", "SELECT 1E5", "SELECT 0x1f", "SELECT 0b1", "SELECT 01", "SELECT 007",
		"SELECT 1.", "SELECT .5", "SELECT 1.2.3", "SELECT 1a", "SELECT 1_000", "SELECT a FROM t . b",
		"SELECT a FROM t. b", "SELECT a FROM t .b", "SELECT t.1", "SELECT @1", "SELECT :1", "SELECT ?1",
		"SELECT a/1", "SELECT $1a", "SELECT $1.5", "SELECT a FROM t WHERE x = 'a\x7f'", "SELECT 1\x7f",
		"SELECT 1\\", "SELECT '\\'", "SELECT 'a' \x0b",
	} {
		s := getScratch()
		if _, _, ok := s.prelexScan(Postgres, sql); ok {
			t.Errorf("%q: eligible", sql)
		}
		s.put()
	}
}

// The scan's key keeps the text but literals, which become kind markers.
func TestPrelexScanKeys(t *testing.T) {
	for _, c := range []struct{ sql, key string }{
		{"SELECT a FROM t WHERE b = 1 AND c = 'x''y'", "SELECT a FROM t WHERE b = \x01n AND c = \x01s"},
		{"UPDATE t SET a = a + -4930 WHERE id = 5", "UPDATE t SET a = a + -\x01n WHERE id = \x01n"},
		{"INSERT INTO t (a, b) VALUES (1.5, '')", "INSERT INTO t (a, b) VALUES (\x01n, \x01s)"},
		{"SELECT * FROM t WHERE id = $1 AND x IN (0, 10)", "SELECT * FROM t WHERE id = $1 AND x IN (\x01n, \x01n)"},
		{"SELECT a1, t.b_2 FROM s.t WHERE x>=3", "SELECT a1, t.b_2 FROM s.t WHERE x>=\x01n"},
		{"SELECT '--/*#\"`$?'", "SELECT \x01s"},
		{"BEGIN", "BEGIN"},
	} {
		s := getScratch()
		key, _, ok := s.prelexScan(Postgres, c.sql)
		if !ok || string(key[1:]) != c.key || key[0] != byte(Postgres) {
			t.Errorf("%q: key %q, %v; want %q", c.sql, key, ok, c.key)
		}
		s.put()
	}
}

// Text the scan accepts but the lexer reads otherwise is never answered
// from the pre-lex cache.
func TestPrelexNotLearned(t *testing.T) {
	for _, sql := range []string{
		"SELECT a FROM t WHERE b = -.c", // the lexer takes "-." for a number
		"SELECT a FROM t WHERE b = 1-.c",
	} {
		r := newTest(t)
		s := getScratch()
		_, _, ok := s.prelexScan(Postgres, sql)
		s.put()
		if !ok {
			t.Fatalf("%q: not eligible", sql)
		}
		r.Redact(Postgres, sql)
		r.Redact(Postgres, sql)
		if len(r.prelex.m) != 0 || r.prelex.hits.Load() != 0 {
			t.Errorf("%q: cached", sql)
		}
	}
}

// A number that the lexer takes with its sign hashes with the sign, from
// each statement's own value.
func TestPrelexSignedIdentifier(t *testing.T) {
	cfg := Config{Key: []byte("k"), IdentifierColumns: []string{"x", "y"}}
	r, _ := New(cfg)
	for _, sql := range []string{
		"SELECT * FROM t WHERE x = -5 AND y = +6", "SELECT * FROM t WHERE x = -7 AND y = +8",
		"SELECT * FROM t WHERE x = 9 AND y = 10", "SELECT * FROM t WHERE x = 1 AND y = 3-4",
		"SELECT * FROM t WHERE x = 2 AND y = 5-6",
	} {
		got := r.Redact(Postgres, sql)
		if want := noPrelex(t, cfg).Redact(Postgres, sql); !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %+v\nwant %+v", sql, got, want)
		}
	}
	if r.prelex.hits.Load() != 2 {
		t.Errorf("%d hits, want 2", r.prelex.hits.Load())
	}
	if h := r.Redact(Postgres, "SELECT * FROM t WHERE x = -11 AND y = +12").Identifiers; h["x"][0] != r.IdentifierHash("-11") ||
		h["y"][0] != r.IdentifierHash("12") {
		t.Errorf("hashes %v", h)
	}
}

// The cache is bounded like the shape cache.
func TestPrelexBounded(t *testing.T) {
	r := newTest(t)
	for i := range maxShapes + 100 {
		r.Redact(Postgres, "SELECT a FROM t"+strings.Repeat("x", i%50)+" WHERE b"+strings.Repeat("y", i/50)+" = 1")
	}
	if n := len(r.prelex.m); n > maxShapes || n < maxShapes/2 {
		t.Errorf("%d entries", n)
	}
}

// refill replaces the literals the scan finds in sql with pieces of fill
// (split at |): numbers by a piece as it is, strings by a piece quoted
// unless it starts with a quote. It gives text of sql's key when the
// pieces are plain literals, and near misses otherwise.
func refill(sql, fill string) string {
	s := getScratch()
	defer s.put()
	_, spans, ok := s.prelexScan(Postgres, sql)
	if !ok || len(spans) == 0 {
		return fill
	}
	pieces := strings.Split(fill, "|")
	var b strings.Builder
	last := 0
	for i, sp := range spans {
		p := pieces[i%len(pieces)]
		b.WriteString(sql[last:sp.start])
		switch {
		case !sp.str:
			b.WriteString(p)
		case strings.HasPrefix(p, "'"):
			b.WriteString(p)
		default:
			b.WriteString("'" + strings.ReplaceAll(p, "'", "''") + "'")
		}
		last = int(sp.end)
	}
	b.WriteString(sql[last:])
	return b.String()
}

// FuzzPrelexMatchesFull redacts a statement and then another, often of the
// same key with other literals, with one Redactor: each result must be
// what a Redactor without the fast path gives the text alone.
func FuzzPrelexMatchesFull(f *testing.F) {
	var seeds []string
	seeds = append(seeds, goldenCorpus(f)...)
	seeds = append(seeds, dbwiretest.PgbenchSQL(rand.New(rand.NewSource(3)), 4)...)
	seeds = append(seeds,
		"SELECT * FROM t WHERE x = -5 AND y = +6 AND z = 1-2 AND w = 3 - 4",
		"SELECT a FROM t WHERE b = -.c", "SELECT a FROM t WHERE b=-1 AND c<>-2 AND d*-3",
		"SELECT * FROM customers WHERE email = 'a''b' AND id IN (1, 2.5, 0)",
		"SELECT * FROM t WHERE id = $1 AND x = 'y' AND z = ?",
		"SELECT a . b FROM t WHERE c = 1", "SELECT x FROM t WHERE a/1 = 2", "SELECT x FROM t WHERE a!1 = 2",
		"SELECT 'a' 'b', 'c'||'d', ARRAY[1,2][1] FROM t WHERE e = 'x'::text",
		"UPDATE customers SET note = '--' WHERE id = 1", "SELECT @a, @@b, :c FROM t WHERE d = 1",
	)
	fills := []string{"1", "-1|'x'", "0|''", "01|e'x'", "1e5|'a\\'b'", "1.5|'o''b'", ".5|x", "007", "'é'",
		"2|'unterminated", "3 --|'a' /*", "$1|$$x$$", "9.|'\"'", "4a|'a'b", "5.6.7|'x''"}
	for i, s := range seeds {
		f.Add(s, fills[i%len(fills)], uint8(i%9))
	}
	f.Fuzz(func(t *testing.T, sql, fill string, sel uint8) {
		d := []Dialect{Postgres, MySQL, MySQLNoBackslashEscapes}[sel%3]
		cfg := shapeConfigs[int(sel/3)%len(shapeConfigs)]
		r, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		second := refill(sql, fill)
		for _, text := range []string{sql, second, second, sql} {
			got := r.Redact(d, text)
			if want := noPrelex(t, cfg).Redact(d, text); !reflect.DeepEqual(got, want) {
				t.Fatalf("after %q, %q (dialect %d):\n got %+v\nwant %+v", sql, text, d, got, want)
			}
		}
	})
}

package redact

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

var shapeConfigs = []Config{
	{Key: []byte("k")},
	{Key: []byte("k"), IdentifierColumns: []string{"customers.id", "email", "`Shop`.\"Note\"", "id", "t.x", "aid"}},
	{Key: []byte("k"), MaxStatement: 40},
}

// uncached redacts with a new Redactor, whose shape cache is empty.
func uncached(t testing.TB, cfg Config, d Dialect, sql string) Result {
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r.Redact(d, sql)
}

// A statement answered from the shape cache gets exactly the result it
// would get on its own, over the whole golden corpus redacted in random
// order by one Redactor (so every repeated shape is a cache hit).
func TestShapeCacheTransparent(t *testing.T) {
	corpus := goldenCorpus(t)
	hits, served := 0, uint64(0)
	for _, cfg := range shapeConfigs {
		r, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewSource(5))
		for pass := range 2 {
			for _, i := range rng.Perm(len(corpus)) {
				for _, d := range []Dialect{Postgres, MySQL, MySQLNoBackslashEscapes} {
					got := r.Redact(d, corpus[i])
					want := uncached(t, cfg, d, corpus[i])
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("pass %d, %q (dialect %d):\n got %+v\nwant %+v", pass, corpus[i], d, got, want)
					}
				}
			}
		}
		hits += len(r.shapes.m)
		served += r.shapes.hits.Load()
	}
	if hits == 0 {
		t.Fatal("nothing was cached")
	}
	// The second pass repeats every statement: a cache that never answered
	// would leave this test comparing uncached results with themselves.
	if served == 0 {
		t.Fatal("no statement was answered from the cache")
	}
}

// Statements of one shape with different literals never see each other's
// literals, in any field, whichever comes first.
func TestShapeCacheNoLiteralCrossing(t *testing.T) {
	markers := []string{"MARKERaaaa1", "MARKERbbbb2", "MARKERcccc3"}
	shapes := []struct {
		d   Dialect
		fmt string
	}{
		{Postgres, "SELECT * FROM customers WHERE email = 'X' AND id = 1"},
		{Postgres, "SELECT * FROM customers WHERE email = E'X\\'' AND note = $$X$$"},
		{Postgres, "UPDATE customers SET note = 'X' WHERE id IN ('X', 'b')"},
		{Postgres, "SELECT * FROM customers WHERE email = 'X"},
		{MySQL, "SELECT * FROM customers WHERE email = \"X\" AND id = ?"},
		{MySQL, "INSERT INTO customers (email) VALUES ('X'), ('X')"},
	}
	for _, cfg := range shapeConfigs {
		r, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range shapes {
			for i, m := range markers {
				sql := strings.ReplaceAll(sh.fmt, "X", m)
				got := r.Redact(sh.d, sql)
				b, _ := json.Marshal(got)
				for j, other := range markers {
					if strings.Contains(string(b), other) {
						t.Errorf("%q (marker %d) reported marker %d: %s", sql, i, j, b)
					}
				}
				if want := uncached(t, cfg, sh.d, sql); !reflect.DeepEqual(got, want) {
					t.Errorf("%q: cached %+v, alone %+v", sql, got, want)
				}
			}
		}
	}
	// Identifier hashes come from each statement's own value.
	r, _ := New(Config{Key: []byte("k"), IdentifierColumns: []string{"email"}})
	a := r.Redact(Postgres, "SELECT * FROM customers WHERE email = 'a@x'")
	b := r.Redact(Postgres, "SELECT * FROM customers WHERE email = 'b@x'")
	if a.Statement != b.Statement || reflect.DeepEqual(a.Identifiers, b.Identifiers) ||
		b.Identifiers["email"][0] != r.IdentifierHash("b@x") {
		t.Errorf("identifier hashes crossed: %v %v", a.Identifiers, b.Identifiers)
	}
}

// Results handed out from the cache are the caller's to change.
func TestShapeCacheResultsIndependent(t *testing.T) {
	r := newTest(t)
	a := r.Redact(Postgres, "SELECT a, b FROM t WHERE c = 1")
	a.Tables[0], a.Columns[0] = "changed", "changed"
	b := r.Redact(Postgres, "SELECT a, b FROM t WHERE c = 2")
	if b.Tables[0] != "t" || b.Columns[0] != "a" {
		t.Errorf("cached result changed through an earlier one: %+v", b)
	}
}

// FuzzRedactShapeCache redacts a template with two different fillings (often
// one shape, different literals) with one Redactor: the second result must
// be what the second text gets alone.
func FuzzRedactShapeCache(f *testing.F) {
	f.Add("SELECT * FROM customers WHERE email = 'X' AND id = X", "MARKER1", "MARKER2", false)
	f.Add("SELECT * FROM t WHERE id IN (X, 2) AND email = $$X$$", "1", "3", true)
	f.Add("UPDATE t SET a = a + X WHERE b = E'X'", "-5", "7", false)
	f.Add("SELECT `c` FROM t WHERE email = \"X\" # X", "o\\'b", "x", true)
	cfg := shapeConfigs[1]
	f.Fuzz(func(t *testing.T, tmpl, a, b string, mysql bool) {
		d := Postgres
		if mysql {
			d = MySQL
		}
		r, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r.Redact(d, strings.ReplaceAll(tmpl, "X", a))
		second := strings.ReplaceAll(tmpl, "X", b)
		got := r.Redact(d, second)
		if want := uncached(t, cfg, d, second); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q gave\n %+v\nalone\n %+v", second, got, want)
		}
	})
}

// One Redactor redacting from several goroutines gives each statement its
// own result (run with -race).
func TestShapeCacheConcurrent(t *testing.T) {
	r := newTest(t, "aid")
	stmts := pgbenchStatements()[:140]
	want := make([]Result, len(stmts))
	for i, s := range stmts {
		want[i] = uncached(t, Config{Key: []byte("test-key"), IdentifierColumns: []string{"aid"}}, Postgres, s)
	}
	done := make(chan string)
	for g := range 4 {
		go func() {
			for k := range 3 * len(stmts) {
				i := (k*7 + g) % len(stmts)
				if got := r.Redact(Postgres, stmts[i]); !reflect.DeepEqual(got, want[i]) {
					done <- fmt.Sprintf("%q: got %+v want %+v", stmts[i], got, want[i])
					return
				}
			}
			done <- ""
		}()
	}
	for range 4 {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}

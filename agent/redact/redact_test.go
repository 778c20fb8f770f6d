package redact

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func newTest(t testing.TB, cols ...string) *Redactor {
	t.Helper()
	r, err := New(Config{Key: []byte("test-key"), IdentifierColumns: cols})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRedactStatements(t *testing.T) {
	r := newTest(t)
	cases := []struct {
		d       Dialect
		in      string
		stmt    string
		cmd     string
		tables  []string
		columns []string
	}{
		{Postgres, "SELECT id, email FROM customers WHERE email = 'a@b.c' AND id > 10",
			"SELECT id, email FROM customers WHERE email = ? AND id > ?", "SELECT", []string{"customers"}, []string{"email", "id"}},
		{Postgres, "select c.id from public.customers c join orders o on o.cid = c.id where o.total > -5.5 and c.id in (1, 2, 3)",
			"select c.id from public.customers c join orders o on o.cid = c.id where o.total > ? and c.id in (?)", "SELECT",
			[]string{"customers", "orders"}, []string{"customers.id", "orders.cid", "orders.total"}},
		{Postgres, "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')",
			"INSERT INTO t (a, b) VALUES (?, ?)", "INSERT", []string{"t"}, []string{"a", "b"}},
		{Postgres, "UPDATE accounts SET balance = balance -1 WHERE id = $1",
			"UPDATE accounts SET balance = balance - ? WHERE id = $1", "UPDATE", []string{"accounts"}, []string{"balance", "id"}},
		{Postgres, "COPY (SELECT * FROM big) TO STDOUT", "COPY (SELECT * FROM big) TO STDOUT", "COPY", []string{"big"}, nil},
		{Postgres, "COPY customers TO STDOUT WITH (FORMAT csv)", "COPY customers TO STDOUT WITH (FORMAT csv)", "COPY", []string{"customers"}, nil},
		{Postgres, "WITH x AS (SELECT 1) SELECT * FROM x", "WITH x AS (SELECT ?) SELECT * FROM x", "SELECT", []string{"x"}, nil},
		{Postgres, "SELECT E'it\\'s', $$dollar$$, $t$tagged$t$, X'ff', B'01', TRUE, NULL, .5, 1e10, 0xff FROM t",
			"SELECT ?, ?, ?, ?, ?, TRUE, NULL, ?, ?, ? FROM t", "SELECT", []string{"t"}, nil},
		{MySQL, "SELECT `name` FROM `shop`.`customers` WHERE email = \"x@y\" AND note = _utf8mb4'hi' # trailing",
			"SELECT `name` FROM `shop`.`customers` WHERE email = ? AND note = ?", "SELECT", []string{"customers"}, []string{"email", "name", "note"}},
		{MySQL, "DELETE FROM t WHERE id = ? AND x IN (?, ?)", "DELETE FROM t WHERE id = ? AND x IN (?, ?)", "DELETE", []string{"t"}, []string{"id", "x"}},
		{Postgres, "/* app=MARKER */ SELECT 1 -- MARKER", "SELECT ?", "SELECT", nil, nil},
		{Postgres, "begin", "begin", "BEGIN", nil, nil},
	}
	for _, c := range cases {
		res := r.Redact(c.d, c.in)
		if res.Statement != c.stmt || res.Command != c.cmd || !reflect.DeepEqual(res.Tables, c.tables) || !reflect.DeepEqual(res.Columns, c.columns) {
			t.Errorf("Redact(%q)\n got %q %s tables=%q cols=%q\nwant %q %s tables=%q cols=%q",
				c.in, res.Statement, res.Command, res.Tables, res.Columns, c.stmt, c.cmd, c.tables, c.columns)
		}
		if res.Fingerprint == "" || res.Unparsable {
			t.Errorf("Redact(%q): fingerprint %q unparsable %v", c.in, res.Fingerprint, res.Unparsable)
		}
	}
}

func TestFingerprintStable(t *testing.T) {
	r := newTest(t)
	a := r.Redact(Postgres, "SELECT * FROM t WHERE id IN (1,2,3) AND name='x'")
	b := r.Redact(Postgres, "select *   from T where ID in (4, 5) and NAME = 'yy'")
	c := r.Redact(Postgres, "SELECT * FROM t WHERE id IN (1,2,3) AND other='x'")
	if a.Fingerprint != b.Fingerprint {
		t.Errorf("fingerprints differ: %q %q", a.Fingerprint, b.Fingerprint)
	}
	if a.Fingerprint == c.Fingerprint {
		t.Errorf("different statements share a fingerprint")
	}
}

// Every shape of literal a marker can hide in must be gone from every field.
func TestMarkerNeverEscapes(t *testing.T) {
	const m = "MARKER7f3a9"
	r := newTest(t, "customers.id", "email", "note")
	stmts := []struct {
		d Dialect
		s string
	}{
		{Postgres, "SELECT * FROM customers WHERE email = 'MARKER7f3a9'"},
		{Postgres, "SELECT * FROM customers WHERE email = E'x\\'MARKER7f3a9'"},
		{Postgres, "SELECT * FROM customers WHERE email = 'it''s MARKER7f3a9'"},
		{Postgres, "SELECT * FROM customers WHERE email = $$MARKER7f3a9$$"},
		{Postgres, "SELECT * FROM customers WHERE email = $q$MARKER7f3a9$q$"},
		{Postgres, "SELECT * FROM customers WHERE email = U&'MARKER7f3a9'"},
		{Postgres, "SELECT * FROM customers WHERE email = 'MARKER7f3a9"},
		{Postgres, "SELECT * FROM customers WHERE email = 'a\\' OR x = 'MARKER7f3a9'"},
		{Postgres, "SELECT * FROM customers WHERE note = 'a\\' MARKER7f3a9 '"},
		{Postgres, "SELECT 1 /* MARKER7f3a9 */"},
		{Postgres, "SELECT 1 /* MARKER7f3a9"},
		{Postgres, "SELECT 1 -- MARKER7f3a9"},
		{Postgres, "SELECT \"unterminated MARKER7f3a9"},
		{Postgres, "MARKER7f3a9"},
		{Postgres, "hello MARKER7f3a9 world"},
		{Postgres, "SELECT 'MARKER7f3a9'\x00 garbage"},
		{Postgres, "SELECT 'x' \x01 MARKER7f3a9"},
		{MySQL, "SELECT * FROM customers WHERE email = \"MARKER7f3a9\""},
		{MySQL, "SELECT * FROM customers WHERE email = 'x\\'MARKER7f3a9'"},
		{MySQL, "SELECT * FROM customers WHERE email = N'MARKER7f3a9'"},
		{MySQL, "SELECT * FROM customers WHERE email = _latin1'MARKER7f3a9'"},
		{MySQL, "SELECT 1 # MARKER7f3a9"},
		{MySQL, "SELECT /*!50000 MARKER7f3a9 */ 1"},
		{MySQL, "SELECT * FROM customers WHERE id IN ('MARKER7f3a9', 'b')"},
		{Postgres, "DECLARE c CURSOR FOR SELECT * FROM customers WHERE email = 'MARKER7f3a9'"},
		{Postgres, "FETCH 'MARKER7f3a9'"},
		{Postgres, "FETCH FORWARD 5 FROM 'MARKER7f3a9'"},
		{Postgres, "CLOSE 'MARKER7f3a9'"},
		{MySQL, "HANDLER h READ `PRIMARY` = ('MARKER7f3a9')"},
		{MySQL, "HANDLER 'MARKER7f3a9' OPEN AS h"},
		{MySQL, "HANDLER customers OPEN AS 'MARKER7f3a9'"},
	}
	stmts = append(stmts, struct {
		d Dialect
		s string
	}{MySQLNoBackslashEscapes, "SELECT * FROM customers WHERE note = 'a\\' MARKER7f3a9 '"})
	for _, s := range stmts {
		res := r.Redact(s.d, s.s)
		b, _ := json.Marshal(res)
		if strings.Contains(strings.ToUpper(string(b)), strings.ToUpper(m)) {
			t.Errorf("marker escaped from %q: %s", s.s, b)
		}
	}
}

func TestUnparsableFailsClosed(t *testing.T) {
	r := newTest(t)
	for _, s := range []string{"hello world", "\xff\xfe binary", "SELECT 'a' \x07"} {
		res := r.Redact(Postgres, s)
		if !res.Unparsable || res.Statement != Unparsable || len(res.Fingerprint) != 32 {
			t.Errorf("Redact(%q) = %+v, want fail closed", s, res)
		}
	}
	// The keyed hash depends on the key.
	r2, _ := New(Config{Key: []byte("other")})
	if r.Redact(Postgres, "hello").Fingerprint == r2.Redact(Postgres, "hello").Fingerprint {
		t.Error("unparsable fingerprint does not depend on the key")
	}
}

func TestIdentifiers(t *testing.T) {
	r := newTest(t, "customers.id", "email")
	h := r.IdentifierHash
	cases := []struct {
		d      Dialect
		in     string
		want   map[string][]string
		params map[int]string
	}{
		{Postgres, "SELECT * FROM customers WHERE email = 'X@Y.com '", map[string][]string{"email": {h("x@y.com")}}, nil},
		{Postgres, "SELECT * FROM customers WHERE id IN (1, 2, '3')", map[string][]string{"customers.id": sorted(h("1"), h("2"), h("3"))}, nil},
		{Postgres, "SELECT * FROM customers c JOIN orders o ON o.cid = c.id WHERE c.id = 5", map[string][]string{"customers.id": {h("5")}}, nil},
		{Postgres, "SELECT * FROM orders WHERE id = 5", nil, nil},
		{Postgres, "SELECT * FROM customers WHERE 'a@b' = email AND id = $2", map[string][]string{"email": {h("a@b")}}, map[int]string{2: "customers.id"}},
		{MySQL, "SELECT * FROM customers WHERE email = ? AND id IN (?, ?)", nil, map[int]string{1: "email", 2: "customers.id", 3: "customers.id"}},
		{MySQL, "SELECT * FROM customers WHERE email = 'o\\'brien'", map[string][]string{"email": {h("o'brien")}}, nil},
	}
	for _, c := range cases {
		res := r.Redact(c.d, c.in)
		if !reflect.DeepEqual(res.Identifiers, c.want) || !reflect.DeepEqual(res.Params, c.params) {
			t.Errorf("Redact(%q): identifiers %v params %v, want %v %v", c.in, res.Identifiers, res.Params, c.want, c.params)
		}
	}
}

func sorted(s ...string) []string {
	res := &Result{}
	r := make([]string, 0, len(s))
	r = append(r, s...)
	_ = res
	for i := range r {
		for j := i + 1; j < len(r); j++ {
			if r[j] < r[i] {
				r[i], r[j] = r[j], r[i]
			}
		}
	}
	return r
}

func TestCapAndDisabled(t *testing.T) {
	r, _ := New(Config{Key: []byte("k"), MaxStatement: 20})
	res := r.Redact(Postgres, "SELECT aaaaaaaaaa, bbbbbbbbbb, cccccccccc FROM t")
	if len(res.Statement) > 20 || !res.Truncated {
		t.Errorf("cap: %q truncated=%v", res.Statement, res.Truncated)
	}
	off, _ := New(Config{Key: []byte("k"), Disabled: true})
	if got := off.Redact(Postgres, "SELECT 'x'").Statement; got != "SELECT 'x'" {
		t.Errorf("disabled: %q", got)
	}
}

func TestSplit(t *testing.T) {
	got := Split(Postgres, "SELECT 1; SELECT ';'; ;SELECT 3")
	want := []string{"SELECT 1", "SELECT ';'", "SELECT 3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Split = %q", got)
	}
}

func TestNoKey(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without key succeeded")
	}
}

package redact

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden_redact.txt from the current Redact")

// goldenCorpus is the text every change to the redactor must redact exactly
// as testdata/golden_redact.txt recorded: the unit test statements, the fuzz seed corpora, pgbench, and a
// deterministic soup of SQL fragments (quotes, escapes, comments, case and
// Unicode that upper-cases to ASCII).
func goldenCorpus(t testing.TB) []string {
	out := []string{
		"SELECT id, email FROM customers WHERE email = 'a@b.c' AND id > 10",
		"select c.id from public.customers c join orders o on o.cid = c.id where o.total > -5.5 and c.id in (1, 2, 3)",
		"INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')",
		"UPDATE accounts SET balance = balance -1 WHERE id = $1",
		"COPY (SELECT * FROM big) TO STDOUT", "COPY customers TO STDOUT WITH (FORMAT csv)",
		"WITH x AS (SELECT 1) SELECT * FROM x",
		"SELECT E'it\\'s', $$dollar$$, $t$tagged$t$, X'ff', B'01', TRUE, NULL, .5, 1e10, 0xff FROM t",
		"SELECT `name` FROM `shop`.`customers` WHERE email = \"x@y\" AND note = _utf8mb4'hi' # trailing",
		"DELETE FROM t WHERE id = ? AND x IN (?, ?)", "/* app=MARKER */ SELECT 1 -- MARKER", "begin",
		"SELECT * FROM t WHERE id IN (1,2,3) AND name='x'", "select *   from T where ID in (4, 5) and NAME = 'yy'",
		"SELECT * FROM customers c JOIN orders o ON o.cid = c.id WHERE c.id = 5",
		"SELECT * FROM customers WHERE 'a@b' = email AND id = $2",
		"SELECT * FROM customers WHERE email = ? AND id IN (?, ?)",
		"SELECT * FROM customers WHERE email = 'o\\'brien'",
		"SELECT aaaaaaaaaa, bbbbbbbbbb, cccccccccc FROM t", "hello world", "\xff\xfe binary", "SELECT 'a' \x07",
		"SELECT 1; SELECT ';'; ;SELECT 3",
	}
	for _, dir := range []string{"FuzzRedact", "FuzzRedactLiteral"} {
		files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", dir, "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(line, "string(") {
					s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(line, "string("), ")"))
					if err != nil {
						t.Fatalf("%s: %v", f, err)
					}
					out = append(out, s,
						"SELECT name FROM customers WHERE email = '"+strings.ReplaceAll(s, "'", "''")+"' AND id = 1",
						"SELECT name FROM customers WHERE email = '"+strings.NewReplacer("\\", "\\\\", "'", "\\'").Replace(s)+"' AND id = 1")
				}
			}
		}
	}
	out = append(out, dbwiretest.PgbenchSQL(rand.New(rand.NewSource(7)), 20)...)
	out = append(out, mixedCorpus...)
	frags := []string{
		"SELECT", "select", "Select", "FROM", "from", "WHERE", "where", "AND", "OR", "NOT", "IN", "in", "ın", "AS", "as",
		"aſ", "VALUES", "values", "JOIN", "LEFT", "ON", "INTO", "UPDATE", "SET", "INSERT", "DELETE", "WITH", "TABLE",
		"COPY", "TO", "STDOUT", "ONLY", "IF", "EXISTS", "LIMIT", "ORDER", "BY", "GROUP", "CURRENT_TIMESTAMP", "now()",
		"count(*)", "t", "T", "customers", "Customers", "orders", "public.customers", "\"Quoted\"", "\"a.b\"", "`tick`",
		"`db`.`t`", "c.id", "o.cid", "id", "ID", "email", "Email", "note", "x", "c", "o", "K", "\u212a", "é", "Ärger",
		"=", "==", "<=>", ">", "<", "-", "+", "*", ",", ",", "(", "(", ")", ")", ".", "::", "[", "]", ";", "?", "$1", "$2",
		"1", "-1", "+2", "3.5", ".5", "1e10", "0xff", "'x'", "'it''s'", "'a\\'b'", "E'e\\'x'", "N'n'", "_utf8mb4'u'",
		"X'ff'", "B'01'", "U&'u'", "$$d$$", "$q$dq$q$", "\"dq\"", "'unterminated", "/* c */", "-- line\n", "# hash\n",
		"/*!50000 v */", "@v", "@@sql_mode", ":name", "TRUE", "NULL", "IS", "LIKE", "'%x%'", "\\", "\t", "\n", "  ",
	}
	rng := rand.New(rand.NewSource(42))
	for range 1500 {
		n := 1 + rng.Intn(24)
		var b strings.Builder
		if rng.Intn(4) > 0 {
			b.WriteString([]string{"SELECT ", "select ", "UPDATE ", "INSERT INTO ", "DELETE FROM ", "WITH ", "COPY "}[rng.Intn(7)])
		}
		for range n {
			b.WriteString(frags[rng.Intn(len(frags))])
			if rng.Intn(5) > 0 {
				b.WriteByte(' ')
			}
		}
		out = append(out, b.String())
	}
	return out
}

// goldenLines redacts the corpus under every dialect and several
// configurations and returns one line per statement: its index and a hash of
// the JSON of all its results and splits.
func goldenLines(t *testing.T) []string {
	corpus := goldenCorpus(t)
	mk := func(cfg Config) *Redactor {
		r, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	configs := []*Redactor{
		mk(Config{Key: []byte("k")}),
		mk(Config{Key: []byte("k"), IdentifierColumns: []string{"customers.id", "email", "`Shop`.\"Note\"", "id", "t.x"}}),
		mk(Config{Key: []byte("k"), MaxStatement: 40}),
		mk(Config{Key: []byte("k"), Disabled: true}),
	}
	var lines []string
	for i, sql := range corpus {
		h := sha256.New()
		for _, d := range []Dialect{Postgres, MySQL, MySQLNoBackslashEscapes} {
			for _, r := range configs {
				b, err := json.Marshal(r.Redact(d, sql))
				if err != nil {
					t.Fatal(err)
				}
				h.Write(b)
				h.Write([]byte{0})
			}
			b, _ := json.Marshal(Split(d, sql))
			h.Write(b)
			h.Write([]byte{0})
		}
		lines = append(lines, strconv.Itoa(i)+" "+hex.EncodeToString(h.Sum(nil)[:8]))
	}
	return lines
}

// TestGoldenRedact checks Redact and Split give, byte for byte, the results
// recorded in testdata/golden_redact.txt (go test -run TestGoldenRedact
// -update-golden rewrites them; only do that for an intended change).
func TestGoldenRedact(t *testing.T) {
	path := filepath.Join("testdata", "golden_redact.txt")
	lines := goldenLines(t)
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
	corpus := goldenCorpus(t)
	sc := bufio.NewScanner(f)
	i, bad := 0, 0
	for sc.Scan() {
		if i >= len(lines) {
			t.Fatalf("golden file has more lines than results (%d)", len(lines))
		}
		if sc.Text() != lines[i] {
			bad++
			if bad <= 10 {
				idx, _ := strconv.Atoi(strings.Fields(lines[i])[0])
				t.Errorf("result %q differs for %q", lines[i], corpus[idx])
			}
		}
		i++
	}
	if i != len(lines) {
		t.Fatalf("golden file has %d lines, want %d", i, len(lines))
	}
	if bad > 0 {
		t.Fatalf("%d results differ", bad)
	}
}

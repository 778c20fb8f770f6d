package redact

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRedact checks that arbitrary text never panics and that the output is
// bounded and valid UTF-8.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM customers WHERE email = 'a@b' AND id IN (1,2,3)",
		"INSERT INTO t VALUES ($1, E'x\\'y', $$z$$)",
		"COPY (SELECT 1) TO STDOUT",
		"SELECT `a` FROM b WHERE c = \"d\" # e",
		"/* x */ UPDATE t SET a = a -1 WHERE b = .5",
		"WITH x AS (SELECT 1) SELECT * FROM x",
		"SELECT 'unterminated",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	r := newTest(f, "customers.id", "email")
	f.Fuzz(func(t *testing.T, sql string, mysql bool) {
		d := Postgres
		if mysql {
			d = MySQL
		}
		res := r.Redact(d, sql)
		if len(res.Statement) > DefaultMaxStatement || !utf8.ValidString(res.Statement) {
			t.Fatalf("bad statement %q", res.Statement)
		}
		if got, want := Split(d, sql), splitLexed(d, sql); strings.Contains(sql, ";") && !slices.Equal(got, want) {
			t.Fatalf("Split(%q) = %q, lexer says %q", sql, got, want)
		}
	})
}

// FuzzRedactLiteral puts arbitrary values in a string literal and checks they
// never reach any output field.
func FuzzRedactLiteral(f *testing.F) {
	for _, s := range []string{"MARKER-7f3a9", "o'brien", "back\\slash", "$$dollar$$", "*/ -- #", "\"quoted\""} {
		f.Add(s)
	}
	r := newTest(f, "customers.id", "email")
	f.Fuzz(func(t *testing.T, v string) {
		if len(v) < 6 || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00") {
			return
		}
		pg := "SELECT name FROM customers WHERE email = '" + strings.ReplaceAll(v, "'", "''") + "' AND id = 1"
		my := "SELECT name FROM customers WHERE email = '" + strings.NewReplacer("\\", "\\\\", "'", "\\'").Replace(v) + "' AND id = 1"
		for _, c := range []struct {
			d   Dialect
			sql string
		}{{Postgres, pg}, {MySQL, my}, {Postgres, "DECLARE c CURSOR FOR " + pg}, {MySQL, "HANDLER customers READ `PRIMARY` = (" + strings.TrimSuffix(strings.TrimPrefix(my, "SELECT name FROM customers WHERE email = "), " AND id = 1") + ")"}} {
			if strings.Contains(strings.ReplaceAll(c.sql, v, ""), strings.ToLower(v)) {
				continue
			}
			res := r.Redact(c.d, c.sql)
			b, _ := json.Marshal(res)
			if strings.Contains(string(b), v) || strings.Contains(res.Statement, v) {
				t.Fatalf("value %q escaped from %q: %s", v, c.sql, b)
			}
		}
	})
}

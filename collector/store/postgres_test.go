package store

import (
	"strings"
	"testing"
)

// rebind numbers the placeholders PostgreSQL sees and leaves a ? inside
// a string, a quoted name or a comment alone.
func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE b = ? AND c IN (?, ?)`, `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)`},
		{`SELECT '?', "a?b", ? -- why?
			FROM t WHERE x = ?`, `SELECT '?', "a?b", $1 -- why?
			FROM t WHERE x = $2`},
		{`SELECT 'it''s ?' WHERE a = ?`, `SELECT 'it''s ?' WHERE a = $1`},
		{`SELECT 'unclosed ?`, `SELECT 'unclosed ?`},
	} {
		if got := rebind(c.in); got != c.want {
			t.Errorf("rebind(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A store URL of another database is refused, not taken for a file name,
// and a postgres:// URL is shown without its password.
func TestOpenRefusesOtherSchemes(t *testing.T) {
	if _, err := Open("mysql://u:p@h/db"); err == nil || !strings.Contains(err.Error(), "mysql:// is not a store") {
		t.Errorf("mysql:// store: %v", err)
	}
	if got := TargetName("postgres://vigil:hunter2@db:5432/vigil"); strings.Contains(got, "hunter2") {
		t.Errorf("TargetName kept the password: %s", got)
	}
	if _, err := Open("postgres://vigil:hunter2@db:notaport/vigil"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a bad URL: %v, want an error without the password", err)
	}
}

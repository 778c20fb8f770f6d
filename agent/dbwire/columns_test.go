package dbwire

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/internal/testdb"
)

func TestResultColumns(t *testing.T) {
	long := func(prefix string, n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("%s%d", prefix, i))
		}
		return out
	}
	for _, c := range []struct {
		in, want []string
	}{
		{nil, nil},
		{[]string{"?column?", ""}, nil},
		{[]string{"id", "?column?", "", "id", "email"}, []string{"id", "email"}},
		// Long lists take the map; the result is the same.
		{append(long("c", 12), "?column?", "y", "c3", "x", "y", "", "z"), append(long("c", 12), "y", "x", "z")},
	} {
		if got := resultColumns(c.in, "", nil, false); !slices.Equal(got, c.want) {
			t.Errorf("resultColumns(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// An expression's column is named only as the redacted statement shows
// it: MySQL names SELECT 'alice@example.com' alice@example.com.
func TestResultColumnsOfExpressions(t *testing.T) {
	cols := []string{"id", exprMark + "count", exprMark + "alice@example.com", exprMark + "1", exprMark + "GROUP_CONCAT(email)", exprMark + "?column?"}
	for _, c := range []struct {
		stmt     string
		verbatim bool
		want     []string
	}{
		{"SELECT id, COUNT(*), ?, ?, GROUP_CONCAT(email) FROM customers", false, []string{"id", "count", "GROUP_CONCAT(email)"}},
		{"<unparsable>", false, []string{"id"}},
		{"", false, []string{"id"}},
		{"SELECT id, count(*), 'alice@example.com', 1, GROUP_CONCAT(email)", true, []string{"id", "count", "alice@example.com", "1", "GROUP_CONCAT(email)"}},
	} {
		if got := resultColumns(cols, c.stmt, nil, c.verbatim); !slices.Equal(got, c.want) {
			t.Errorf("resultColumns(%q, %v) = %q, want %q", c.stmt, c.verbatim, got, c.want)
		}
	}
}

// A literal is not taken as shown by a name or number that merely holds
// its text: SELECT 'cust', '1' FROM customers c1.
func TestResultColumnsOfExpressionsWholeNames(t *testing.T) {
	cols := []string{exprMark + "cust", exprMark + "1", exprMark + "c", exprMark + "json_agg", exprMark + "COUNT(*)"}
	for _, c := range []struct {
		stmt string
		want []string
	}{
		{"SELECT ?, ? FROM customers c1", nil},
		{"SELECT json_agg(c), COUNT(*) FROM customers c", []string{"c", "json_agg", "COUNT(*)"}},
		{"SELECT my_json_agg(x), COUNT(*)x FROM t", []string{"COUNT(*)"}},
	} {
		if got := resultColumns(cols, c.stmt, nil, false); !slices.Equal(got, c.want) {
			t.Errorf("resultColumns(%q) = %q, want %q", c.stmt, got, c.want)
		}
	}
}

// A real MariaDB's column definitions, through the mariadb client: a
// table's columns by the table's names for them, literals in aliases,
// expressions and derived tables never.
func TestMySQLResultColumnsLive(t *testing.T) {
	srv := testdb.StartMariaDB(t, testdb.Options{})
	px := testdb.StartProxy(t, srv.Addr())
	host, port, _ := strings.Cut(px.Addr, ":")
	sql := "CREATE TABLE people (id int, email varchar(64)); INSERT INTO people VALUES (1, '" + marker + "@example.com'); " +
		"SELECT * FROM people; SELECT email AS '" + marker + "', id AS e FROM people; " +
		"SELECT * FROM (SELECT '" + marker + "', email FROM people) d; SELECT '" + marker + "' AS x, CONCAT('" + marker + "', email) FROM people"
	if out, err := exec.Command("mariadb", "--no-defaults", "--skip-ssl", "-h", host, "-P", port, "-uvigil", "-pvigil", "vigil", "-e", sql).CombinedOutput(); err != nil {
		t.Fatalf("mariadb client: %v: %s", err, out)
	}
	px.Close()
	recs, _ := replay(t, EngineMySQL, connChunks(px.Chunks(), 0), nil)
	assertNoMarker(t, recs)
	for _, c := range []struct {
		stmt string
		want []string
	}{
		{"SELECT * FROM people", []string{"id", "email"}},
		{"SELECT email AS ?, id AS e FROM people", []string{"email", "id"}},
		{"SELECT * FROM (SELECT ?, email FROM people) d", []string{"email"}},
		{"SELECT ? AS x, CONCAT(?, email) FROM people", []string{"x"}},
	} {
		if got := findRecord(t, recs, c.stmt).DB.ResultColumns; !slices.Equal(got, c.want) {
			t.Errorf("%s: result columns %q, want %q", c.stmt, got, c.want)
		}
	}
}

package dbwire

import (
	"fmt"
	"slices"
	"testing"
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
		if got := resultColumns(c.in, "", false); !slices.Equal(got, c.want) {
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
		if got := resultColumns(cols, c.stmt, c.verbatim); !slices.Equal(got, c.want) {
			t.Errorf("resultColumns(%q, %v) = %q, want %q", c.stmt, c.verbatim, got, c.want)
		}
	}
}

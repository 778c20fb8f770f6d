package dbwire

import (
	"fmt"
	"slices"
	"testing"
)

func TestMergeColumns(t *testing.T) {
	long := func(prefix string, n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("%s%d", prefix, i))
		}
		return out
	}
	for _, c := range []struct {
		a, b, want []string
	}{
		{[]string{"id", "email"}, nil, []string{"id", "email"}},
		{nil, []string{"id", "?column?", "", "id"}, []string{"id"}},
		{[]string{"id", "customers.email"}, []string{"email", "id", "note"}, []string{"id", "customers.email", "email", "note"}},
		// Long lists take the map; the result is the same.
		{append(long("c", 12), "x"), append(long("c", 12), "?column?", "y", "x"), append(long("c", 12), "x", "y")},
	} {
		if got := mergeColumns(c.a, c.b); !slices.Equal(got, c.want) {
			t.Errorf("mergeColumns(%q, %q) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

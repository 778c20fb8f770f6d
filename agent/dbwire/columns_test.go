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
		if got := resultColumns(c.in); !slices.Equal(got, c.want) {
			t.Errorf("resultColumns(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

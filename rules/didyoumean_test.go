package rules

import "testing"

func TestSuggest(t *testing.T) {
	cands := []string{"db.rows", "db.user", "db.bytes", "host", "person", "process"}
	for name, want := range map[string]string{
		"db.rowz":  ` Did you mean "db.rows"?`,
		"db.usr":   ` Did you mean "db.user"?`,
		"proces":   ` Did you mean "process"?`,
		"persno":   ` Did you mean "person"?`,
		"hots":     ` Did you mean "host"?`,
		"db.bites": ` Did you mean "db.bytes"?`,
		// Too far from anything, or too short to guess at.
		"customer": "",
		"x":        "",
		"hx":       "",
		"":         "",
	} {
		if got := suggest(name, cands); got != want {
			t.Errorf("suggest(%q) = %q, want %q", name, got, want)
		}
	}
	if got := suggest("ab", []string{"ac", "aa"}); got != ` Did you mean "aa"?` {
		t.Errorf("a tie goes to the first in order: %q", got)
	}
	if got := suggest("x", nil); got != "" {
		t.Errorf("no candidates: %q", got)
	}
}

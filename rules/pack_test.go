package rules

import (
	"strings"
	"testing"
)

func TestDefaultPackPasses(t *testing.T) {
	set, diags := LoadDir("packs")
	for _, d := range diags {
		t.Logf("%s", d)
	}
	if diags.HasErrors() {
		t.Fatal("default pack does not load")
	}
	if len(diags) > 0 {
		t.Errorf("default pack has warnings")
	}
	results := set.RunTests()
	if len(results) < 20 {
		t.Errorf("only %d tests in the pack", len(results))
	}
	for _, r := range results {
		if !r.Passed {
			t.Errorf("%s %s:\n  %s", r.Pos, r.Name, strings.Join(r.Failures, "\n  "))
		}
	}
	if u := set.Untested(); len(u) > 0 {
		t.Errorf("rules without a test that expects them to fire: %v", u)
	}
}

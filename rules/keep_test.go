package rules

import (
	"testing"
	"time"
)

// Two engines splitting a rule's groups by Options.Keep fire each group's
// alert once between them, and hold only their own groups.
func TestKeepSplitsGroupsBetweenEngines(t *testing.T) {
	set := mustLoad(t, countRule)
	owns := func(who string) func(string, []byte) bool {
		return func(rule string, key []byte) bool { return rule == "reads" && string(key) == who }
	}
	alice := NewEngine(set, Options{Keep: owns("alice")})
	bob := NewEngine(set, Options{Keep: owns("bob")})
	fired := map[string]int{}
	for i, p := range []string{"alice", "bob", "alice", "bob"} {
		ev := dbq("e", p, time.Duration(i)*time.Minute, 60)
		for _, e := range []*Engine{alice, bob} {
			for _, al := range e.Process(ev) {
				fired[al.Alert.Group["person"]]++
			}
		}
	}
	if fired["alice"] != 1 || fired["bob"] != 1 || len(fired) != 2 {
		t.Errorf("alerts by person: %v, want alice and bob once each", fired)
	}
	if g := alice.Stats().Rules["reads"].Groups; g != 1 {
		t.Errorf("alice's engine holds %d groups, want 1", g)
	}
}

// A match rule's one-event alert is kept by the engine holding its group.
func TestKeepFiltersMatchRules(t *testing.T) {
	set := mustLoad(t, `
rule "big" {
  severity = "high"
  when     = kind == "db.query" && db.rows > 10
  by       = [person]
}
`)
	none := NewEngine(set, Options{Keep: func(string, []byte) bool { return false }})
	mine := NewEngine(set, Options{Keep: func(_ string, key []byte) bool { return string(key) == "alice" }})
	ev := dbq("e1", "alice", 0, 60)
	if got := none.Process(ev); got != nil {
		t.Errorf("an engine keeping no group fired %v", got)
	}
	if got := mine.Process(ev); len(got) != 1 {
		t.Errorf("the engine keeping alice's group fired %d alerts, want 1", len(got))
	}
}

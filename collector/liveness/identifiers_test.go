package liveness

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// An agent whose identifier columns disagree with the rules, its own host
// rules or the collector's, raises one alert while the mismatch lasts, and
// again when it comes back after a fix.
func TestIdentifiersMismatch(t *testing.T) {
	tr := New(Options{Identifiers: func() []string { return []string{"customer_id"} }})
	beatWith := func(at time.Duration, hashed, missing []string) []*event.Event {
		ev := heartbeat(beat{boot: "b1", interval: 10, sensors: both}, t0.Add(at))
		ev.Heartbeat.Identifiers, ev.Heartbeat.IdentifiersMissing = hashed, missing
		return tr.Heartbeat(ev, t0.Add(at))
	}
	if got := raised(beatWith(0, []string{"customer_id"}, nil)); got != "" {
		t.Fatalf("an agent hashing what the rules read raised %q", got)
	}
	out := beatWith(10*time.Second, []string{"customers.id"}, []string{"customer_ref"})
	if raised(out) != RuleIdentifiers {
		t.Fatalf("mismatch raised %q, want %s", raised(out), RuleIdentifiers)
	}
	s := out[0].Alert.Summary
	if !strings.Contains(s, "customer_id, customer_ref") || !strings.Contains(s, "it hashes: customers.id") {
		t.Errorf("summary %q does not name what is missing and what is hashed", s)
	}
	if len(out[0].Alert.Evidence) != 1 {
		t.Errorf("evidence %v, want the heartbeat", out[0].Alert.Evidence)
	}
	if got := raised(beatWith(20*time.Second, []string{"customers.id"}, []string{"customer_ref"})); got != "" {
		t.Errorf("a lasting mismatch alerted again: %q", got)
	}
	if got := raised(beatWith(30*time.Second, []string{"customer_id"}, nil)); got != "" {
		t.Errorf("the fix raised %q", got)
	}
	// Back after the cooldown: alerts again.
	if got := raised(beatWith(time.Hour, nil, nil)); got != RuleIdentifiers {
		t.Errorf("a new mismatch raised %q, want %s", got, RuleIdentifiers)
	}
}

// Without collector rules reading identifiers, an agent that hashes none
// raises nothing.
func TestIdentifiersNoneRead(t *testing.T) {
	tr := New(Options{Identifiers: func() []string { return nil }})
	ev := heartbeat(beat{boot: "b1", interval: 10, sensors: both}, t0)
	if got := raised(tr.Heartbeat(ev, t0)); got != "" {
		t.Errorf("raised %q", got)
	}
}

package liveness

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

func bundleBeat(mode string, version uint64, hash, refused string, at time.Time) *event.Event {
	ev := heartbeat(beat{boot: "b1", interval: 10, sensors: both, hash: hash}, at)
	ev.Heartbeat.RulesMode, ev.Heartbeat.BundleVersion, ev.Heartbeat.BundleRefused = mode, version, refused
	return ev
}

// An agent that stays on an older bundle, or on local files, after its
// site's bundle changed alerts once the grace period is over; one that
// takes the new bundle in time raises nothing, not even a rule set change.
func TestBundleNotCurrent(t *testing.T) {
	current := uint64(3)
	tr := New(Options{CurrentBundle: func(site string) uint64 {
		if site == "leeds" {
			return current
		}
		return 0
	}, BundleGrace: time.Minute})
	steps := []struct {
		at      time.Duration
		mode    string
		version uint64
		hash    string
		want    string
	}{
		{0, "bundle", 3, "h3", ""},
		{10 * time.Second, "bundle", 3, "h3", ""},
		// Version 4 is published: the agent switches within the grace.
		{20 * time.Second, "bundle", 3, "h3", ""},
		{30 * time.Second, "bundle", 4, "h4", ""},
		// Version 5: the agent stays on 4 past the grace.
		{40 * time.Second, "bundle", 4, "h4", ""},
		{90 * time.Second, "bundle", 4, "h4", ""},
		{100 * time.Second, "bundle", 4, "h4", RuleBundleStale + "=5"},
		// Switching to local files is no way round it, and changes the set.
		{110 * time.Second, "local", 0, "hl", RuleRuleSetChanged},
		{170 * time.Second, "local", 0, "hl", ""}, // cooldown
		{180 * time.Second, "bundle", 5, "h5", ""},
	}
	for i, s := range steps {
		switch i {
		case 2:
			current = 4
		case 4:
			current = 5
		}
		got := raised(tr.Heartbeat(bundleBeat(s.mode, s.version, s.hash, "", t0.Add(s.at)), t0.Add(s.at)))
		if got != s.want {
			t.Errorf("step %d (%s, %s v%d): raised %q, want %q", i, s.at, s.mode, s.version, got, s.want)
		}
	}
}

// An agent at a site with a bundle that runs local files (an old agent,
// or rules_mode = "local" set on the host) alerts after the grace too.
func TestLocalModeAtBundleSiteAlerts(t *testing.T) {
	tr := New(Options{CurrentBundle: func(string) uint64 { return 2 }, BundleGrace: time.Minute})
	if got := raised(tr.Heartbeat(bundleBeat("local", 0, "h", "", t0), t0)); got != "" {
		t.Fatalf("first heartbeat raised %q", got)
	}
	at := t0.Add(time.Minute)
	al := tr.Heartbeat(bundleBeat("local", 0, "h", "", at), at)
	if raised(al) != RuleBundleStale+"=2" || al[0].Alert.Severity != event.SeverityHigh {
		t.Fatalf("raised %q, want %s", raised(al), RuleBundleStale)
	}
	// Without any bundle published, local mode is the site's choice.
	quiet := New(Options{CurrentBundle: func(string) uint64 { return 0 }, BundleGrace: time.Minute})
	quiet.Heartbeat(bundleBeat("local", 0, "h", "", t0), t0)
	if got := raised(quiet.Heartbeat(bundleBeat("local", 0, "h", "", t0.Add(time.Hour)), t0.Add(time.Hour))); got != "" {
		t.Fatalf("local mode with no bundle published raised %q", got)
	}
}

// Each new refusal an agent reports alerts at once, even within the
// cooldown; the same refusal repeated does not.
func TestBundleRefused(t *testing.T) {
	tr := New(Options{})
	steps := []struct {
		refused, want string
	}{
		{"", ""},
		{"bundle on site.leeds: bundle signature does not verify with the pinned key", RuleBundleRefused + "=3"},
		{"bundle on site.leeds: bundle signature does not verify with the pinned key", ""},
		{"bundle on site.leeds: bundle is not newer than the one running: version 2 offered, 3 runs", RuleBundleRefused + "=3"},
	}
	for i, s := range steps {
		at := t0.Add(time.Duration(i) * 10 * time.Second)
		al := tr.Heartbeat(bundleBeat("bundle", 3, "h3", s.refused, at), at)
		if got := raised(al); got != s.want {
			t.Errorf("step %d: raised %q, want %q", i, got, s.want)
		}
	}
}

// An agent that reports the current bundle's version with another hash
// than the bundle the collector published under it alerts at once, naming
// both hashes, and its switch to that bundle counts as a rule set change;
// the published bundle's hash, a version the collector does not know and
// an agent that reports no hash raise nothing.
func TestBundleHashDiffers(t *testing.T) {
	published := map[uint64]string{3: "aaaa1111bbbb2222cccc3333"}
	tr := New(Options{CurrentBundle: func(string) uint64 { return 3 },
		BundleHash: func(v uint64) (string, bool) { h, ok := published[v]; return h, ok }})
	beat := func(at time.Duration, version uint64, bundleHash, setHash string) []*event.Event {
		ev := bundleBeat("bundle", version, setHash, "", t0.Add(at))
		ev.Heartbeat.BundleHash = bundleHash
		return tr.Heartbeat(ev, t0.Add(at))
	}
	if got := beat(0, 3, published[3], "h3"); len(got) != 0 {
		t.Fatalf("the published bundle raised %q", raised(got))
	}
	if got := beat(10*time.Second, 3, "", "h3"); len(got) != 0 {
		t.Fatalf("a heartbeat without a bundle hash raised %q", raised(got))
	}
	got := beat(20*time.Second, 3, "dddd4444eeee5555", "h3x")
	if r := raised(got); r != RuleBundleStale+"=3 "+RuleRuleSetChanged {
		t.Fatalf("a bundle numbered 3 with another hash raised %q, want %s and %s", r, RuleBundleStale, RuleRuleSetChanged)
	}
	if s := got[0].Alert.Summary; !strings.Contains(s, "dddd4444eeee") || !strings.Contains(s, "aaaa1111bbbb") {
		t.Errorf("alert %q names not both hashes", s)
	}
	delete(published, 3)
	if got := beat(30*time.Second, 3, "dddd4444eeee5555", "h3x"); len(got) != 0 {
		t.Fatalf("a version the collector does not know raised %q", raised(got))
	}
}

package liveness

import (
	"fmt"
	"time"

	"github.com/vigilhq/vigil/event"
)

// DefaultBundleGrace is how long an agent may run another bundle than its
// site's current one before it alerts: long enough for a bundle to reach
// every connected agent and a heartbeat to say so.
const DefaultBundleGrace = 2 * time.Minute

// RulesModeBundle is the heartbeat's rules_mode of an agent that runs
// signed bundles.
const RulesModeBundle = "bundle"

// bundleBehind alerts on an agent that has run another bundle than its
// site's current one (or local files) for longer than the grace period.
func (t *Tracker) bundleBehind(ev *event.Event, st *agentState, who string, current uint64, onCurrent bool, now time.Time) *event.Event {
	if current == 0 || onCurrent {
		st.bundleBehind = time.Time{}
		return nil
	}
	if st.bundleBehind.IsZero() {
		st.bundleBehind = now
	}
	if now.Sub(st.bundleBehind) < t.opts.BundleGrace {
		return nil
	}
	hb := ev.Heartbeat
	running := fmt.Sprintf("bundle %d", hb.BundleVersion)
	switch {
	case hb.RulesMode != RulesModeBundle:
		running = fmt.Sprintf("local rule files (rules_mode %q)", hb.RulesMode)
	case hb.BundleVersion == 0:
		running = "no bundle"
	}
	return t.alert(ev, st, RuleBundleStale, event.SeverityHigh,
		fmt.Sprintf("%s runs %s, not its site's current rule bundle %d, for %s", who, running, current, now.Sub(st.bundleBehind).Round(time.Second)),
		float64(current), now, ev.ID)
}

// bundleDiffers says the agent runs a bundle whose hash is not the one the
// collector published under its version.
func (t *Tracker) bundleDiffers(hb *event.Heartbeat) bool {
	if t.opts.BundleHash == nil || hb.RulesMode != RulesModeBundle || hb.BundleVersion == 0 || hb.BundleHash == "" {
		return false
	}
	want, ok := t.opts.BundleHash(hb.BundleVersion)
	return ok && want != hb.BundleHash
}

// forgedBundle alerts, without the grace a bundle's spread needs, on an
// agent whose bundle carries a published version but other content: a
// copy altered and signed again, or one from another publisher.
func (t *Tracker) forgedBundle(ev *event.Event, st *agentState, who string, now time.Time) *event.Event {
	hb := ev.Heartbeat
	if hb.IntervalS == 0 || !t.bundleDiffers(hb) {
		return nil
	}
	want, _ := t.opts.BundleHash(hb.BundleVersion)
	return t.alert(ev, st, RuleBundleStale, event.SeverityHigh,
		fmt.Sprintf("%s runs a bundle numbered %d with hash %s, not the bundle %d the collector published (hash %s)",
			who, hb.BundleVersion, short(hb.BundleHash), hb.BundleVersion, short(want)), float64(hb.BundleVersion), now, ev.ID)
}

package liveness

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vigilhq/vigil/event"
)

// Rule names of the alerts the tracker raises.
const (
	RuleSilent         = "vigil_agent_silent"
	RuleStopped        = "vigil_agent_stopped"
	RuleHostShutdown   = "vigil_host_shutdown"
	RuleRestarted      = "vigil_agent_restarted"
	RuleLoss           = "vigil_agent_loss"
	RuleSensorDetached = "vigil_sensor_detached"
	RuleSensorBlind    = "vigil_sensor_blind"
	RuleRuleSetChanged = "vigil_rule_set_changed"
	RuleIdentity       = "vigil_identity_mismatch"
	RuleIdentifiers    = "vigil_identifiers_mismatch"
	RulePermission     = "vigil_nats_permission_violation"
	RuleBundleStale    = "vigil_rule_bundle_not_current"
	RuleBundleRefused  = "vigil_rule_bundle_refused"
)

// Missed is how many heartbeat intervals may pass before an agent is silent.
const Missed = 3

// Options configure a Tracker.
type Options struct {
	// AllowedRuleSets lists host rule set hashes the SOC shipped; a change
	// to one of them raises no alert. Empty: every change alerts.
	AllowedRuleSets []string
	// Cooldown between two alerts of one rule for one agent (silence and
	// newly detached probes excepted). Default 10 minutes.
	Cooldown time.Duration
	// MaxRepeat is the longest span between two alerts of one silence,
	// whose spans otherwise double. Default 1 hour.
	MaxRepeat time.Duration
	// Identifiers, if set, lists the identifier names the collector's rules
	// read: an agent that does not hash one of them raises an alert.
	Identifiers func() []string
	// CurrentBundle, if set, is the rule bundle version agents at a site
	// should run (0: none published for it).
	CurrentBundle func(site string) uint64
	// BundleHash, if set, is the Digest of the bundle the collector
	// published under a version, and whether it knows it.
	BundleHash func(version uint64) (string, bool)
	// BundleGrace is how long an agent may run another bundle than the
	// current one before it alerts. Default DefaultBundleGrace.
	BundleGrace time.Duration
}

type agentState struct {
	site, host, bootID string
	lastHB             time.Time
	interval           time.Duration
	stopped            bool
	// stoppedRunning says the agent stopped while its host kept running:
	// its silence goes on raising alerts.
	stoppedRunning bool
	// silentAlerts counts the alerts of the current silence (0: not
	// silent), and nextSilent is the silence that raises the next one.
	silentAlerts int
	nextSilent   time.Duration
	// detached is the probes the last heartbeat reported detached.
	detached []string
	// blind is the sensor paths the last heartbeat's canary found blind.
	blind      []string
	sensors    []string
	ruleHash   string
	drops      uint64 // kernel drops + spool drops, this boot
	idsMissing string // identifiers missing at the last heartbeat, joined
	// bundleBehind is since when the agent runs another bundle than its
	// site's current one, bundleRefused the refusal it last reported.
	bundleBehind  time.Time
	bundleRefused string
	lastAlert     map[string]time.Time
	last          *event.Heartbeat // the last heartbeat, for Health
	// skew is the last heartbeat's time less its arrival: the agent's
	// clock against the collector's, less the heartbeat's delivery.
	skew time.Duration
}

// Tracker holds each agent's last heartbeat. Methods are safe for
// concurrent use.
type Tracker struct {
	mu      sync.Mutex
	opts    Options
	allowed map[string]bool
	agents  map[string]*agentState
	// pending are alerts raised outside a heartbeat, for Check to return;
	// violated is when each agent and kind of refused operation last
	// alerted, and held counts those the cooldown held back since.
	pending  []*event.Event
	violated map[string]time.Time
	held     map[string]int
}

// New returns a tracker.
func New(opts Options) *Tracker {
	if opts.Cooldown == 0 {
		opts.Cooldown = 10 * time.Minute
	}
	if opts.MaxRepeat == 0 {
		opts.MaxRepeat = time.Hour
	}
	if opts.BundleGrace == 0 {
		opts.BundleGrace = DefaultBundleGrace
	}
	t := &Tracker{opts: opts, allowed: map[string]bool{}, agents: map[string]*agentState{},
		violated: map[string]time.Time{}, held: map[string]int{}}
	for _, h := range opts.AllowedRuleSets {
		t.allowed[h] = true
	}
	return t
}

// Known seeds an agent from the store at startup. Its clock starts at now:
// the collector itself was away, so silence is counted from its return.
func (t *Tracker) Known(agentID, site, host, bootID string, hb *event.Heartbeat, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := &agentState{site: site, host: host, bootID: bootID, lastHB: now, interval: 10 * time.Second, lastAlert: map[string]time.Time{}}
	if hb != nil {
		if hb.IntervalS == 0 {
			// The stop was raised before the collector's restart; a
			// stop on a running host goes on raising from here.
			st.stopped, st.stoppedRunning = true, !hb.HostShutdown
			st.silentAlerts, st.nextSilent = 1, 2*Missed*st.interval
		} else {
			st.interval = time.Duration(hb.IntervalS) * time.Second
		}
		st.sensors, st.ruleHash = hb.Sensors, hb.RuleSetHash
		st.drops, st.last = dropsOf(hb), hb
		st.idsMissing = t.missingIdentifiers(hb)
	}
	t.agents[agentID] = st
}

func dropsOf(hb *event.Heartbeat) uint64 {
	n := hb.SpoolDropped
	for _, d := range hb.KernelDrops {
		n += d
	}
	return n
}

func (t *Tracker) alert(ev *event.Event, st *agentState, rule, severity, summary string, value float64, now time.Time, evidence ...string) *event.Event {
	if last, ok := st.lastAlert[rule]; ok && now.Sub(last) < t.opts.Cooldown {
		return nil
	}
	st.lastAlert[rule] = now
	return raise(ev, rule, severity, summary, value, now, evidence...)
}

// raise makes an alert about ev's agent, with no cooldown.
func raise(ev *event.Event, rule, severity, summary string, value float64, now time.Time, evidence ...string) *event.Event {
	if evidence == nil {
		evidence = []string{}
	}
	return &event.Event{
		ID:   fmt.Sprintf("live-%s-%s-%d", rule, ev.AgentID, now.UnixNano()),
		Time: now, Kind: event.KindAlert, Site: ev.Site, Host: ev.Host, AgentID: ev.AgentID, BootID: ev.BootID,
		Alert: &event.Alert{Rule: rule, Severity: severity, Summary: summary, Evidence: evidence, Value: value,
			Scope: "global", Tags: []string{"T1562.001"}, Group: map[string]string{"agent_id": ev.AgentID}},
	}
}

// Heartbeat updates the agent's state and returns the alerts the change
// raises, each citing the heartbeat (store it when an alert cites it).
func (t *Tracker) Heartbeat(ev *event.Event, now time.Time) []*event.Event {
	hb := ev.Heartbeat
	if hb == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	st, known := t.agents[ev.AgentID]
	if !known {
		st = &agentState{lastAlert: map[string]time.Time{}}
		t.agents[ev.AgentID] = st
	}
	var out []*event.Event
	add := func(a *event.Event) {
		if a != nil {
			out = append(out, a)
		}
	}
	who := fmt.Sprintf("agent %s on %s at %s", ev.AgentID, ev.Host, ev.Site)
	sensors := slices.Clone(hb.Sensors)
	sort.Strings(sensors)
	drops := dropsOf(hb)
	newBoot := known && st.bootID != ev.BootID
	if newBoot && !st.stopped && st.silentAlerts == 0 {
		add(t.alert(ev, st, RuleRestarted, event.SeverityMedium, who+" restarted without a clean stop", 0, now, ev.ID))
	}
	if known && st.sensors != nil && !hb.Starting {
		var gone []string
		for _, s := range st.sensors {
			if !slices.Contains(sensors, s) {
				gone = append(gone, s)
			}
		}
		if len(gone) > 0 && hb.IntervalS != 0 {
			add(t.alert(ev, st, RuleSensorDetached, event.SeverityHigh,
				fmt.Sprintf("%s stopped running sensors %s", who, strings.Join(gone, ", ")), float64(len(gone)), now, ev.ID))
		}
	}
	if fresh := newlyDetached(hb.Detached, st.detached, newBoot); len(fresh) > 0 {
		add(raise(ev, RuleSensorDetached, event.SeverityHigh,
			fmt.Sprintf("%s found its probes detached: %s", who, strings.Join(fresh, "; ")), float64(len(fresh)), now, ev.ID))
	}
	if fresh := newlyDetached(hb.Blind, st.blind, newBoot); len(fresh) > 0 {
		add(raise(ev, RuleSensorBlind, event.SeverityHigh,
			fmt.Sprintf("%s found its sensors attached but blind to its own activity: %s", who, strings.Join(fresh, "; ")), float64(len(fresh)), now, ev.ID))
	}
	current := uint64(0)
	if t.opts.CurrentBundle != nil {
		current = t.opts.CurrentBundle(ev.Site)
	}
	add(t.forgedBundle(ev, st, who, now))
	// A change to the site's current bundle is the SOC's own.
	toCurrent := current > 0 && hb.RulesMode == RulesModeBundle && hb.BundleVersion == current && !t.bundleDiffers(hb)
	if known && st.ruleHash != "" && hb.RuleSetHash != st.ruleHash && !t.allowed[hb.RuleSetHash] && !toCurrent {
		add(t.alert(ev, st, RuleRuleSetChanged, event.SeverityHigh,
			fmt.Sprintf("%s now runs rule set %q (was %q)", who, short(hb.RuleSetHash), short(st.ruleHash)), 0, now, ev.ID))
	}
	if !newBoot && known && drops > st.drops {
		add(t.alert(ev, st, RuleLoss, event.SeverityMedium,
			fmt.Sprintf("%s lost %d events (kernel or spool drops)", who, drops-st.drops), float64(drops-st.drops), now, ev.ID))
	} else if newBoot && drops > 0 {
		add(t.alert(ev, st, RuleLoss, event.SeverityMedium,
			fmt.Sprintf("%s lost %d events (kernel or spool drops)", who, drops), float64(drops), now, ev.ID))
	}
	if hb.IntervalS == 0 {
		// Every stop alerts, cooldown or not: a stop right after a
		// restart is no less a stop.
		if hb.HostShutdown {
			add(raise(ev, RuleHostShutdown, event.SeverityInfo, who+" stopped: its host is shutting down", 0, now, ev.ID))
		} else {
			add(raise(ev, RuleStopped, event.SeverityHigh, who+" stopped while its host keeps running", 0, now, ev.ID))
		}
		st.stopped, st.stoppedRunning = true, !hb.HostShutdown
		// The stop alert is the first of its silence.
		st.silentAlerts, st.nextSilent = 1, 2*Missed*st.interval
	} else {
		if missing := t.missingIdentifiers(hb); missing != st.idsMissing {
			st.idsMissing = missing
			if missing != "" {
				add(t.alert(ev, st, RuleIdentifiers, event.SeverityMedium, identifiersSummary(who, missing, hb), 0, now, ev.ID))
			}
		}
		st.stopped, st.stoppedRunning = false, false
		if !hb.Starting {
			st.sensors, st.detached, st.blind = sensors, slices.Clone(hb.Detached), slices.Clone(hb.Blind)
		}
		st.interval = time.Duration(hb.IntervalS) * time.Second
		add(t.bundleBehind(ev, st, who, current, toCurrent, now))
	}
	if hb.BundleRefused != st.bundleRefused {
		st.bundleRefused = hb.BundleRefused
		if hb.BundleRefused != "" {
			add(raise(ev, RuleBundleRefused, event.SeverityHigh, // each new refusal is news: no cooldown
				fmt.Sprintf("%s refused a rule bundle: %s", who, hb.BundleRefused), float64(hb.BundleVersion), now, ev.ID))
		}
	}
	st.site, st.host, st.bootID = ev.Site, ev.Host, ev.BootID
	st.lastHB, st.drops, st.last = now, drops, hb
	if !ev.Time.IsZero() {
		st.skew = ev.Time.Sub(now)
	}
	if !st.stopped {
		st.silentAlerts = 0
	}
	if hb.RuleSetHash != "" || !known {
		st.ruleHash = hb.RuleSetHash
	}
	return out
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Check returns an alert for every agent whose heartbeats stopped for
// Missed intervals without a clean stop, and again while the silence goes
// on, each span twice the last (at most MaxRepeat) and from the second on
// critical. An agent stopped while its host runs is raised again the same
// way; one stopped by a host shutdown is not. It also returns the alerts
// raised outside a heartbeat since the last Check.
func (t *Tracker) Check(now time.Time) []*event.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.pending
	t.pending = nil
	ids := make([]string, 0, len(t.agents))
	for id := range t.agents {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		st := t.agents[id]
		silence := now.Sub(st.lastHB)
		if st.stopped && !st.stoppedRunning {
			continue
		}
		if st.silentAlerts == 0 {
			st.nextSilent = Missed * st.interval
		}
		if silence <= st.nextSilent {
			continue
		}
		severity := event.SeverityHigh
		if st.silentAlerts > 0 {
			severity = event.SeverityCritical
		}
		st.silentAlerts++
		for st.nextSilent < silence {
			st.nextSilent = min(2*st.nextSilent, st.nextSilent+t.opts.MaxRepeat)
		}
		ev := &event.Event{AgentID: id, Site: st.site, Host: st.host, BootID: st.bootID}
		rule, what := RuleSilent, "sent no heartbeat"
		if st.stopped {
			rule, what = RuleStopped, "is still stopped, its host running,"
		}
		out = append(out, raise(ev, rule, severity,
			fmt.Sprintf("agent %s on %s at %s %s for %s (last heartbeat %s; alert %d of this silence)", id, st.host, st.site, what,
				silence.Round(time.Second), st.lastHB.Format(time.RFC3339), st.silentAlerts), silence.Seconds(), now))
	}
	return out
}

// Status says ok, silent or stopped for an agent ("" when unknown).
func (t *Tracker) Status(agentID string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.agents[agentID]
	if !ok {
		return ""
	}
	return statusOf(st)
}

func statusOf(st *agentState) string {
	switch {
	case st.stopped:
		return "stopped"
	case st.silentAlerts > 0:
		return "silent"
	}
	return "ok"
}

// Identity is the alert for a message whose payload claims another agent
// than the subject it was published on (which NATS permissions tie to the
// sender's key).
func (t *Tracker) Identity(subjSite, subjAgent string, ev *event.Event, now time.Time) *event.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.sender(subjSite, subjAgent, now)
	sender := &event.Event{AgentID: subjAgent, Site: subjSite, Host: st.host, BootID: st.bootID}
	return t.alert(sender, st, RuleIdentity, event.SeverityHigh,
		fmt.Sprintf("agent %s at %s published an event claiming to be agent %s at %s", subjAgent, subjSite, ev.AgentID, ev.Site), 0, now)
}

// sender is the state of an agent that published something refused,
// made if the agent was never heard of, so its alerts keep a cooldown.
// The caller holds t.mu.
func (t *Tracker) sender(site, agent string, now time.Time) *agentState {
	st, ok := t.agents[agent]
	if !ok {
		st = &agentState{site: site, lastAlert: map[string]time.Time{}, interval: 10 * time.Second, lastHB: now}
		t.agents[agent] = st
	}
	return st
}

// BootClaim returns the alert for an agent whose events carry a boot id
// another agent's events used (owner), or nil within the cooldown: those
// events are refused, so the agent is as good as silent.
func (t *Tracker) BootClaim(ev *event.Event, owner string, now time.Time) *event.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.sender(ev.Site, ev.AgentID, now)
	sender := &event.Event{AgentID: ev.AgentID, Site: ev.Site, Host: ev.Host, BootID: st.bootID}
	return t.alert(sender, st, RuleIdentity, event.SeverityHigh,
		fmt.Sprintf("agent %s at %s published events under boot %s, which agent %s's events used; they are refused", ev.AgentID, ev.Site, ev.BootID, owner), 0, now)
}

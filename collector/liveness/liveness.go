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
	RuleRestarted      = "vigil_agent_restarted"
	RuleLoss           = "vigil_agent_loss"
	RuleSensorDetached = "vigil_sensor_detached"
	RuleRuleSetChanged = "vigil_rule_set_changed"
	RuleIdentity       = "vigil_identity_mismatch"
	RuleIdentifiers    = "vigil_identifiers_mismatch"
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
	// Cooldown between two alerts of one rule for one agent (silence
	// excepted: it alerts once per silence). Default 10 minutes.
	Cooldown time.Duration
	// Identifiers, if set, lists the identifier names the collector's rules
	// read: an agent that does not hash one of them raises an alert.
	Identifiers func() []string
	// CurrentBundle, if set, is the rule bundle version agents at a site
	// should run (0: none published for it).
	CurrentBundle func(site string) uint64
	// BundleGrace is how long an agent may run another bundle than the
	// current one before it alerts. Default DefaultBundleGrace.
	BundleGrace time.Duration
}

type agentState struct {
	site, host, bootID string
	lastHB             time.Time
	interval           time.Duration
	silent, stopped    bool
	sensors            []string
	ruleHash           string
	drops              uint64    // kernel drops + spool drops, this boot
	idsMissing         string    // identifiers missing at the last heartbeat, joined
	bundleBehind       time.Time // since when the agent runs another bundle than the current one
	bundleRefused      string    // the refusal the agent last reported
	lastAlert          map[string]time.Time
	last               *event.Heartbeat // the last heartbeat, for Health
}

// Tracker holds each agent's last heartbeat. Methods are safe for
// concurrent use.
type Tracker struct {
	mu      sync.Mutex
	opts    Options
	allowed map[string]bool
	agents  map[string]*agentState
}

// New returns a tracker.
func New(opts Options) *Tracker {
	if opts.Cooldown == 0 {
		opts.Cooldown = 10 * time.Minute
	}
	if opts.BundleGrace == 0 {
		opts.BundleGrace = DefaultBundleGrace
	}
	t := &Tracker{opts: opts, allowed: map[string]bool{}, agents: map[string]*agentState{}}
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
			st.stopped = true
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
	if rule != RuleSilent {
		if last, ok := st.lastAlert[rule]; ok && now.Sub(last) < t.opts.Cooldown {
			return nil
		}
		st.lastAlert[rule] = now
	}
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
	if newBoot && !st.stopped && !st.silent {
		add(t.alert(ev, st, RuleRestarted, event.SeverityMedium, who+" restarted without a clean stop", 0, now, ev.ID))
	}
	if known && st.sensors != nil {
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
	current := uint64(0)
	if t.opts.CurrentBundle != nil {
		current = t.opts.CurrentBundle(ev.Site)
	}
	// A change to the site's current bundle is the SOC's own.
	toCurrent := current > 0 && hb.RulesMode == RulesModeBundle && hb.BundleVersion == current
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
		add(t.alert(ev, st, RuleStopped, event.SeverityMedium, who+" stopped", 0, now, ev.ID))
		st.stopped = true
	} else {
		if missing := t.missingIdentifiers(hb); missing != st.idsMissing {
			st.idsMissing = missing
			if missing != "" {
				add(t.alert(ev, st, RuleIdentifiers, event.SeverityMedium, identifiersSummary(who, missing, hb), 0, now, ev.ID))
			}
		}
		st.stopped, st.sensors = false, sensors
		st.interval = time.Duration(hb.IntervalS) * time.Second
		add(t.bundleBehind(ev, st, who, current, toCurrent, now))
	}
	if hb.BundleRefused != st.bundleRefused {
		st.bundleRefused = hb.BundleRefused
		if hb.BundleRefused != "" {
			delete(st.lastAlert, RuleBundleRefused) // each new refusal is news
			add(t.alert(ev, st, RuleBundleRefused, event.SeverityHigh,
				fmt.Sprintf("%s refused a rule bundle: %s", who, hb.BundleRefused), float64(hb.BundleVersion), now, ev.ID))
		}
	}
	st.site, st.host, st.bootID = ev.Site, ev.Host, ev.BootID
	st.lastHB, st.silent, st.drops, st.last = now, false, drops, hb
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
// Missed intervals without a clean stop; each silence alerts once.
func (t *Tracker) Check(now time.Time) []*event.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*event.Event
	ids := make([]string, 0, len(t.agents))
	for id := range t.agents {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		st := t.agents[id]
		if st.silent || st.stopped || now.Sub(st.lastHB) <= Missed*st.interval {
			continue
		}
		st.silent = true
		ev := &event.Event{AgentID: id, Site: st.site, Host: st.host, BootID: st.bootID}
		out = append(out, t.alert(ev, st, RuleSilent, event.SeverityHigh,
			fmt.Sprintf("agent %s on %s at %s sent no heartbeat for %s (last %s)", id, st.host, st.site,
				now.Sub(st.lastHB).Round(time.Second), st.lastHB.Format(time.RFC3339)), now.Sub(st.lastHB).Seconds(), now))
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
	case st.silent:
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
	st, ok := t.agents[subjAgent]
	if !ok {
		st = &agentState{site: subjSite, lastAlert: map[string]time.Time{}, interval: 10 * time.Second, lastHB: now}
		t.agents[subjAgent] = st
	}
	sender := &event.Event{AgentID: subjAgent, Site: subjSite, Host: st.host, BootID: st.bootID}
	return t.alert(sender, st, RuleIdentity, event.SeverityHigh,
		fmt.Sprintf("agent %s at %s published an event claiming to be agent %s at %s", subjAgent, subjSite, ev.AgentID, ev.Site), 0, now)
}

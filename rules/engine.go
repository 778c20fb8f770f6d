package rules

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigilhq/vigil/event"
)

// Options configure an Engine. Zero values pick the defaults noted.
type Options struct {
	// Scope selects the rules to run: ScopeHost (the default, for the
	// agent) or ScopeGlobal (for the collector).
	Scope string
	// Now is the clock for events that carry no time. Windows always use
	// event time, never the wall clock. Default time.Now.
	Now func() time.Time
	// NewAlert, when set, is called on every alert before Process returns
	// it, e.g. to fill ID, Seq, AgentID and BootID. Without it the caller
	// fills them; alerts come with Time, Kind, Site, Host, Process and Alert set.
	NewAlert func(alert *event.Event)
	// MaxGroups bounds the groups (distinct by-key values) each threshold
	// or sequence keeps; the least recently active is evicted. Default 10000.
	MaxGroups int
	// MaxValues bounds the distinct values a distinct threshold holds across
	// all its groups; new values beyond it are not counted. Default 100000.
	MaxValues int
	// MaxEvidence bounds the evidence event ids on one alert. Default 20.
	MaxEvidence int
	// MaxFanout bounds the elements of a list-valued key or distinct value
	// taken from one event. Default 64.
	MaxFanout int
	// Keep, when set, says whether this engine holds the group of rule
	// whose by-key values, joined by NUL bytes in the rule's order, are
	// key: several engines then share a rule's groups between them. The
	// engine must not keep key.
	Keep func(rule string, key []byte) bool
}

func (o Options) withDefaults() Options {
	if o.Scope == "" {
		o.Scope = ScopeHost
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxGroups <= 0 {
		o.MaxGroups = 10000
	}
	if o.MaxValues <= 0 {
		o.MaxValues = 100000
	}
	if o.MaxEvidence <= 0 {
		o.MaxEvidence = 20
	}
	if o.MaxFanout <= 0 {
		o.MaxFanout = 64
	}
	return o
}

// RuleStats counts what one rule did. Bound counters (GroupsEvicted,
// ValuesDropped, FanoutTruncated, PeersDropped) say the rule saw more than its memory
// bounds allow.
type RuleStats struct {
	Matched         uint64 `json:"matched"`          // events that met the condition (or a step's)
	Suppressed      uint64 `json:"suppressed"`       // of those, dropped by an exception
	Alerts          uint64 `json:"alerts"`           // alerts raised
	Groups          int    `json:"groups"`           // groups held now
	GroupsEvicted   uint64 `json:"groups_evicted"`   // groups dropped because MaxGroups was reached
	ValuesDropped   uint64 `json:"values_dropped"`   // distinct values not counted because MaxValues was reached
	FanoutTruncated uint64 `json:"fanout_truncated"` // events whose list key or value exceeded MaxFanout
	PeersDropped    uint64 `json:"peers_dropped"`    // values left out of a peer baseline whose period held MaxGroups members
	Late            uint64 `json:"late"`             // events older than the group's window
	EmptyKeys       uint64 `json:"empty_keys"`       // events skipped because a by key was empty
}

// Stats is a snapshot of an Engine's counters.
type Stats struct {
	Scope   string               `json:"scope"`
	RuleSet string               `json:"rule_set"` // Set.Hash of the running set
	Events  uint64               `json:"events"`
	Alerts  uint64               `json:"alerts"`
	Rules   map[string]RuleStats `json:"rules"`
}

// Engine evaluates one scope's rules of a Set over a stream of events.
// Process and Swap may be called from different goroutines; calls are
// serialised.
type Engine struct {
	mu      sync.Mutex
	opts    Options
	set     *Set
	active  []*active
	byKind  map[event.Kind][]entry
	anyKind []entry
	env     env
	keyBuf  []byte
	events  uint64
	alerts  uint64
}

// entry is a rule to run for one event kind, with the sequence steps that
// kind can match, last first.
type entry struct {
	a     *active
	steps []int
}

// active is a rule running in an engine, with its state.
type active struct {
	r  *rule
	st *state
	// For sequences: the steps that can match each kind, last step first
	// so that one event never advances a sequence by two steps.
	stepsByKind map[event.Kind][]int
	anySteps    []int
}

// state is a rule's window state and counters; Swap hands it to the new
// set's rule of the same name when the fingerprint is unchanged.
type state struct {
	fingerprint string
	stats       RuleStats
	groups      map[string]*group
	head, tail  *group // most and least recently active
	values      int    // distinct values held by all groups
	watermark   int64  // newest event time seen, unix ns
	cohorts     map[string]*cohort
}

// NewEngine returns an engine running set's rules of opts.Scope. set may be
// nil (no rules) and supplied later with Swap. An unknown scope is a
// programming error and panics.
func NewEngine(set *Set, opts Options) *Engine {
	if opts.Scope != "" && opts.Scope != ScopeHost && opts.Scope != ScopeGlobal {
		panic("rules: Options.Scope must be ScopeHost or ScopeGlobal, not " + opts.Scope)
	}
	e := &Engine{opts: opts.withDefaults(), keyBuf: make([]byte, 0, 256)}
	e.install(set, nil)
	return e
}

// Swap replaces the rule set atomically. Rules whose definition (and the
// variables, lists and conditions they use) is unchanged keep their window
// state; the others start empty. A nil set removes every rule.
func (e *Engine) Swap(set *Set) {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := map[string]*state{}
	for _, a := range e.active {
		old[a.r.name] = a.st
	}
	e.install(set, old)
}

// Set returns the rule set the engine runs.
func (e *Engine) Set() *Set {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.set
}

func (e *Engine) install(set *Set, old map[string]*state) {
	e.set = set
	e.active, e.anyKind = nil, nil
	e.env.memo = nil
	e.byKind = map[event.Kind][]entry{}
	if set == nil {
		return
	}
	e.env.memo = make([]memoEntry, set.nconds)
	for _, r := range set.rules {
		if r.scope != e.opts.Scope {
			continue
		}
		st := old[r.name]
		if st == nil || st.fingerprint != r.fingerprint {
			st = &state{fingerprint: r.fingerprint, groups: map[string]*group{}}
		}
		a := &active{r: r, st: st}
		if r.typ == typeSequence {
			a.stepsByKind = map[event.Kind][]int{}
			for i := len(r.steps) - 1; i >= 0; i-- {
				ks := r.steps[i].kinds
				if ks == nil {
					a.anySteps = append(a.anySteps, i)
					for _, k := range event.Kinds {
						a.stepsByKind[k] = append(a.stepsByKind[k], i)
					}
					continue
				}
				for _, k := range sortedKinds(ks) {
					a.stepsByKind[k] = append(a.stepsByKind[k], i)
				}
			}
		}
		e.active = append(e.active, a)
		if r.kinds == nil {
			e.anyKind = append(e.anyKind, entry{a, a.anySteps})
			for _, k := range event.Kinds {
				e.byKind[k] = append(e.byKind[k], entry{a, a.stepsByKind[k]})
			}
			continue
		}
		for _, k := range sortedKinds(r.kinds) {
			e.byKind[k] = append(e.byKind[k], entry{a, a.stepsByKind[k]})
		}
	}
}

func sortedKinds(ks kindSet) []event.Kind {
	out := make([]event.Kind, 0, len(ks))
	for k := range ks {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Stats returns a snapshot of the engine's counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Stats{Scope: e.opts.Scope, Events: e.events, Alerts: e.alerts, Rules: map[string]RuleStats{}}
	if e.set != nil {
		s.RuleSet = e.set.hash
	}
	for _, a := range e.active {
		rs := a.st.stats
		rs.Groups = len(a.st.groups)
		s.Rules[a.r.name] = rs
	}
	return s
}

// Process evaluates ev against the rules that can match its kind and
// returns the alerts it raises (nil, without allocating, when none). ev is
// not modified. The engine may keep strings from ev (ids, key values) but
// never ev itself or its payloads.
func (e *Engine) Process(ev *event.Event) []event.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events++
	t := ev.Time
	if t.IsZero() {
		t = e.opts.Now()
	}
	e.env.ev, e.env.t = ev, t
	e.env.gen++
	list, ok := e.byKind[ev.Kind]
	if !ok {
		list = e.anyKind
	}
	var out []event.Event
	for _, en := range list {
		switch en.a.r.typ {
		case typeMatch:
			out = e.match(en.a, out)
		case typeThreshold:
			out = e.threshold(en.a, out)
		case typeSequence:
			out = e.sequence(en.a, en.steps, out)
		}
	}
	e.env.ev = nil
	return out
}

func (e *Engine) excepted(a *active) bool {
	for _, x := range a.r.exceptions {
		if x.when.b(&e.env) {
			return true
		}
	}
	return false
}

func (e *Engine) match(a *active, out []event.Event) []event.Event {
	if !a.r.when.b(&e.env) {
		return out
	}
	a.st.stats.Matched++
	if e.excepted(a) {
		a.st.stats.Suppressed++
		return out
	}
	var group map[string]string
	e.keyBuf = e.keyBuf[:0]
	if len(a.r.by) > 0 {
		group = map[string]string{}
		for i, k := range a.r.by {
			if k.n.typ == tList {
				group[k.name] = strings.Join(k.n.l(&e.env), ",")
			} else {
				group[k.name] = k.n.s(&e.env)
			}
			if i > 0 {
				e.keyBuf = append(e.keyBuf, 0)
			}
			e.keyBuf = append(e.keyBuf, group[k.name]...)
		}
	}
	if e.opts.Keep != nil && !e.opts.Keep(a.r.name, e.keyBuf) {
		return out
	}
	var evidence []string
	if id := e.env.ev.ID; id != "" {
		evidence = []string{id}
	}
	return append(out, e.alert(a, 0, group, evidence))
}

func (e *Engine) alert(a *active, value float64, group map[string]string, evidence []string) event.Event {
	r, ev := a.r, e.env.ev
	e.env.value, e.env.group, e.env.rule = value, group, r.name
	summary := r.summary.s(&e.env)
	e.env.value, e.env.group, e.env.rule = 0, nil, ""
	if evidence == nil {
		evidence = []string{} // "evidence": [] rather than null
	}
	al := event.Event{
		Time: e.env.t, Kind: event.KindAlert, Site: ev.Site, Host: ev.Host,
		Alert: &event.Alert{
			Rule: r.name, Severity: r.severity, Summary: summary, Description: r.description,
			Tags: slices.Clone(r.tags), Evidence: evidence, Group: group, Value: value, Scope: r.scope,
		},
	}
	if ev.Process != nil {
		p := *ev.Process
		al.Process = &p
	}
	a.st.stats.Alerts++
	e.alerts++
	if e.opts.NewAlert != nil {
		e.opts.NewAlert(&al)
	}
	return al
}

// keySet is the evaluated by-keys of one event: one combination, or one per
// element of a list-valued key.
type keySet struct {
	vals    [maxKeys]string
	n       int
	listIdx int
	list    []string
}

const maxKeys = 8

// evalKeys evaluates by; ok is false (and EmptyKeys counted) when a key is
// empty, since grouping on nothing would lump unrelated activity together.
func (e *Engine) evalKeys(a *active, by []keyExpr, ks *keySet) (combos int, ok bool) {
	ks.n, ks.listIdx, ks.list = len(by), -1, nil
	for i, k := range by {
		if k.n.typ == tList {
			ks.listIdx = i
			ks.list = k.n.l(&e.env)
			continue
		}
		v := k.n.s(&e.env)
		if v == "" {
			a.st.stats.EmptyKeys++
			return 0, false
		}
		ks.vals[i] = v
	}
	if ks.listIdx < 0 {
		return 1, true
	}
	n := len(ks.list)
	if n == 0 {
		a.st.stats.EmptyKeys++
		return 0, false
	}
	if n > e.opts.MaxFanout {
		a.st.stats.FanoutTruncated++
		n = e.opts.MaxFanout
	}
	return n, true
}

// keyFor builds combination i's map key in e.keyBuf; it returns false for
// an empty list element and for a group Options.Keep leaves to another
// engine.
func (e *Engine) keyFor(a *active, ks *keySet, i int) bool {
	e.keyBuf = e.keyBuf[:0]
	for j := 0; j < ks.n; j++ {
		v := ks.vals[j]
		if j == ks.listIdx {
			v = ks.list[i]
			if v == "" {
				return false
			}
		}
		if j > 0 {
			e.keyBuf = append(e.keyBuf, 0)
		}
		e.keyBuf = append(e.keyBuf, v...)
	}
	return e.opts.Keep == nil || e.opts.Keep(a.r.name, e.keyBuf)
}

func (ks *keySet) values(i int) []string {
	out := make([]string, ks.n)
	for j := 0; j < ks.n; j++ {
		if j == ks.listIdx {
			out[j] = ks.list[i]
		} else {
			out[j] = ks.vals[j]
		}
	}
	return out
}

func groupMap(by []keyExpr, vals []string) map[string]string {
	m := make(map[string]string, len(by))
	for i, k := range by {
		m[k.name] = vals[i]
	}
	return m
}

// group is the state of one by-key combination of a threshold or sequence.
type group struct {
	key        string
	keys       []string
	prev, next *group
	last       int64 // newest event time, unix ns

	// thresholds
	buckets  []bucket
	distinct map[string]int64 // value -> last seen
	dq       []dv             // values in first-seen order, for expiry
	dqHead   int
	periods  []bucket // baseline: totals per window-long period
	firstP   int64    // first period seen
	evidence idRing   // the latest contributing event ids
	firedAt  int64    // last alert, unix ns (for cooldown)
	cohort   *cohort  // peers: the group's peers

	// sequences: partials[i] is the latest match that has completed step i;
	// accums[i] are the running sums of step i when it has sum.
	partials []*partial
	accums   [][]*accum
}

type bucket struct {
	idx int64
	v   float64
}

type dv struct {
	v string
	t int64
}

type partial struct {
	start, last int64
	ids         []string
	captured    [][]value
	// For a sum step, the evidence is prev's and acc's, gathered when read.
	acc  *accum
	prev *partial
}

// lookup returns the group for e.keyBuf, creating it when create is set.
func (e *Engine) lookup(a *active, ks *keySet, i int, horizon int64, create bool) *group {
	st := a.st
	if g, ok := st.groups[string(e.keyBuf)]; ok {
		st.touch(g)
		return g
	}
	if !create {
		return nil
	}
	// Drop groups that have fallen out of every window before evicting
	// live ones.
	for st.tail != nil && st.tail.last < st.watermark-horizon {
		st.remove(st.tail)
	}
	if len(st.groups) >= e.opts.MaxGroups && st.tail != nil {
		st.remove(st.tail)
		st.stats.GroupsEvicted++
	}
	g := &group{key: string(e.keyBuf), keys: ks.values(i)}
	st.groups[g.key] = g
	st.pushFront(g)
	return g
}

func (s *state) pushFront(g *group) {
	g.prev, g.next = nil, s.head
	if s.head != nil {
		s.head.prev = g
	}
	s.head = g
	if s.tail == nil {
		s.tail = g
	}
}

func (s *state) unlink(g *group) {
	if g.prev != nil {
		g.prev.next = g.next
	} else {
		s.head = g.next
	}
	if g.next != nil {
		g.next.prev = g.prev
	} else {
		s.tail = g.prev
	}
	g.prev, g.next = nil, nil
}

func (s *state) touch(g *group) {
	if s.head == g {
		return
	}
	s.unlink(g)
	s.pushFront(g)
}

func (s *state) remove(g *group) {
	s.unlink(g)
	delete(s.groups, g.key)
	s.values -= len(g.distinct)
	s.leave(g)
}

func (e *Engine) addEvidence(g *group, id string) { g.evidence.add(id, e.opts.MaxEvidence) }

// evidenceList returns the ids oldest first.
func (g *group) evidenceList() []string { return g.evidence.list() }

// idRing keeps the latest event ids, at most max, overwriting the oldest
// once full.
type idRing struct {
	ids  []string
	next int
}

// add records id; an event without one adds nothing.
func (r *idRing) add(id string, max int) {
	if id == "" {
		return
	}
	if len(r.ids) < max {
		r.ids = append(r.ids, id)
		return
	}
	r.ids[r.next] = id
	r.next = (r.next + 1) % len(r.ids)
}

// list returns the ids oldest first.
func (r *idRing) list() []string {
	out := make([]string, 0, len(r.ids))
	out = append(out, r.ids[r.next:]...)
	return append(out, r.ids[:r.next]...)
}

// reset empties the ring, keeping its storage.
func (r *idRing) reset() {
	clear(r.ids)
	r.ids, r.next = r.ids[:0], 0
}

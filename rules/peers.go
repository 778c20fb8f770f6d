package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// A threshold with peers compares each group with the others that share
// the peers keys (a person with the other people at the same site) rather
// than with its own history:
//
//	by       = [site, person]
//	peers    = [site]
//	baseline = "14d"
//
// Each member's value for a past window-long period is the highest its
// window reached during that period. The alert fires when a member's value
// is above limit (the floor) and above factor times the median of every
// member's values over the baseline's completed periods, once the peers
// have min_history of history and min_peers members besides the one judged.

// defaultMinPeers is min_peers when a threshold does not set it.
const defaultMinPeers = 3

// peerKeys compiles peers: by keys named by their expression text.
func (c *compiler) peerKeys(r *rule, a *hcl.Attribute, src []byte) hcl.Diagnostics {
	tup, ok := a.Expr.(*hclsyntax.TupleConsExpr)
	if !ok || len(tup.Exprs) == 0 {
		return hcl.Diagnostics{errDiag(a.Expr.Range(), "Invalid peers",
			"peers lists by keys whose groups are compared with each other, e.g. peers = [site].")}
	}
	var names []string
	for _, k := range r.by {
		names = append(names, k.name)
	}
	var diags hcl.Diagnostics
	for _, el := range tup.Exprs {
		rng := el.Range()
		name := string(src[rng.Start.Byte:rng.End.Byte])
		i := slices.Index(names, name)
		if i < 0 {
			diags = append(diags, errDiag(rng, "Invalid peers",
				fmt.Sprintf("%q is not one of the by keys (%s).%s", name, strings.Join(names, ", "), suggest(name, names))))
			continue
		}
		if r.by[i].n.typ == tList {
			diags = append(diags, errDiag(rng, "Invalid peers", "A peers key must be a single value, not a list."))
			continue
		}
		r.peers = append(r.peers, i)
	}
	if !diags.HasErrors() && len(r.peers) >= len(r.by) {
		diags = append(diags, errDiag(a.Expr.Range(), "Invalid peers",
			"peers must leave at least one by key to tell the peers apart (e.g. by = [site, person] with peers = [site])."))
	}
	return diags
}

// cohort is what a threshold with peers learns about one set of peers.
type cohort struct {
	key     string       // in state.cohorts
	groups  int          // groups that use it: at none it is forgotten
	periods []peerPeriod // a ring of the baseline's periods
	first   int64        // first period seen

	// The median and the members of the completed periods, computed again
	// once per period.
	end     int64
	median  float64
	members map[string]bool
	scratch []float64
}

// peerPeriod holds each member's highest value in one period.
type peerPeriod struct {
	idx   int64
	peaks map[string]float64
}

// cohortFor returns the cohort of g, found once per group.
func (st *state) cohortFor(r *rule, g *group) *cohort {
	if g.cohort != nil {
		return g.cohort
	}
	var b strings.Builder
	for _, i := range r.peers {
		b.WriteString(g.keys[i])
		b.WriteByte(0)
	}
	if st.cohorts == nil {
		st.cohorts = map[string]*cohort{}
	}
	c := st.cohorts[b.String()]
	if c == nil {
		c = &cohort{key: b.String(), periods: make([]peerPeriod, r.baseline/r.window), first: -1 << 62, end: -1 << 62}
		for i := range c.periods {
			c.periods[i].idx = -1 << 62
		}
		st.cohorts[c.key] = c
	}
	c.groups++
	g.cohort = c
	return c
}

// leave forgets g's use of its cohort, and the cohort once no group uses
// it: a group is removed when its newest value has left the baseline (or
// when MaxGroups evicts it), so a cohort of such groups holds nothing to
// compare with, and sets of peers that come and go do not pile up.
func (st *state) leave(g *group) {
	c := g.cohort
	if c == nil {
		return
	}
	g.cohort = nil
	if c.groups--; c.groups == 0 {
		delete(st.cohorts, c.key)
	}
}

// record notes member's value v in period pi.
// It reports false when the period already holds maxMembers others and
// member was not recorded.
func (c *cohort) record(member string, pi int64, v float64, maxMembers int) bool {
	if c.first == -1<<62 || pi < c.first {
		c.first = pi
	}
	p := &c.periods[mod(pi, int64(len(c.periods)))]
	if p.idx != pi {
		if p.idx > pi {
			return true // older than the baseline keeps
		}
		p.idx = pi
		clear(p.peaks)
	}
	if p.peaks == nil {
		p.peaks = map[string]float64{}
	}
	old, ok := p.peaks[member]
	if !ok && len(p.peaks) >= maxMembers {
		return false
	}
	if v > old {
		p.peaks[member] = v
	}
	return true
}

// learn computes the median and members of the periods before end.
func (c *cohort) learn(end int64) {
	c.end = end
	c.scratch = c.scratch[:0]
	clear(c.members)
	if c.members == nil {
		c.members = map[string]bool{}
	}
	n := int64(len(c.periods))
	for _, p := range c.periods {
		if p.idx >= end-n && p.idx < end {
			for m, v := range p.peaks {
				c.scratch = append(c.scratch, v)
				c.members[m] = true
			}
		}
	}
	c.median = 0
	if len(c.scratch) > 0 {
		slices.Sort(c.scratch)
		mid := len(c.scratch) / 2
		c.median = c.scratch[mid]
		if len(c.scratch)%2 == 0 {
			c.median = (c.scratch[mid-1] + c.scratch[mid]) / 2
		}
	}
}

// abovePeers records g's value v at tn and reports whether it is far
// above its peers, with the peers' median.
func (e *Engine) abovePeers(st *state, g *group, r *rule, tn int64, v float64) (bool, float64) {
	c := st.cohortFor(r, g)
	w := int64(r.window)
	pi := floorDiv(tn, w)
	if !c.record(g.key, pi, v, e.opts.MaxGroups) {
		st.stats.PeersDropped++
	}
	if pi != c.end {
		c.learn(pi)
	}
	need := (int64(r.minHistory) + w - 1) / w
	if pi-c.first < need || pi-c.first <= 0 {
		return false, c.median
	}
	others := len(c.members)
	if c.members[g.key] {
		others--
	}
	if others < r.minPeers || c.median <= 0 {
		return false, c.median
	}
	return v > r.factor*c.median, c.median
}

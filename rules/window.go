package rules

import (
	"strings"

	"github.com/vigilhq/vigil/event"
)

// Count and sum windows are rings of buckets: memory per group is fixed and
// the window slides in steps of window/windowBuckets.
const windowBuckets = 60

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

func (e *Engine) threshold(a *active, out []event.Event) []event.Event {
	r, st := a.r, a.st
	if !r.when.b(&e.env) {
		return out
	}
	st.stats.Matched++
	if e.excepted(a) {
		st.stats.Suppressed++
		return out
	}
	var ks keySet
	combos, ok := e.evalKeys(a, r.by, &ks)
	if !ok {
		return out
	}
	tn := e.env.t.UnixNano()
	if tn > st.watermark {
		st.watermark = tn
	}
	horizon := int64(r.window)
	if r.baseline > 0 {
		horizon += int64(r.baseline)
	}
	// The contribution is the same for every group the event falls in.
	var x float64
	var distinct []string
	var one [1]string
	switch r.agg {
	case aggCount:
		// A count counts statement runs: an event the agent folded from
		// several runs of one statement counts as that many.
		x = 1
		if d := e.env.ev.DB; d != nil {
			x = float64(d.Runs())
		}
	case aggSum:
		x = r.aggExpr.n(&e.env)
	case aggDistinct:
		if r.aggExpr.typ == tList {
			distinct = r.aggExpr.l(&e.env)
			if len(distinct) > e.opts.MaxFanout {
				st.stats.FanoutTruncated++
				distinct = distinct[:e.opts.MaxFanout]
			}
		} else {
			one[0] = r.aggExpr.s(&e.env)
			distinct = one[:]
		}
	}
	for i := 0; i < combos; i++ {
		if !e.keyFor(a, &ks, i) {
			continue
		}
		g := e.lookup(a, &ks, i, horizon, true)
		var v float64
		if r.agg == aggDistinct {
			var late bool
			v, late = e.addDistinct(st, g, r, tn, distinct)
			if late {
				st.stats.Late++
				continue
			}
		} else {
			var late bool
			v, late = g.addBucket(r, tn, x)
			if late {
				st.stats.Late++
				continue
			}
		}
		e.addEvidence(g, e.env.ev.ID)
		above, base := true, 0.0
		if r.peers != nil {
			above, base = e.abovePeers(st, g, r, tn, v)
		} else if r.baseline > 0 {
			above, base = g.aboveBaseline(r, tn, v)
		}
		if v <= r.limit || !above {
			continue
		}
		if r.cooldown > 0 && g.firedAt != 0 && tn-g.firedAt < int64(r.cooldown) {
			continue
		}
		e.env.baseline = base
		out = append(out, e.alert(a, v, groupMap(r.by, g.keys), g.evidenceList()))
		e.env.baseline = 0
		g.reset(st)
		g.firedAt = tn
	}
	return out
}

// addBucket adds x at time tn and returns the window's total.
func (g *group) addBucket(r *rule, tn int64, x float64) (float64, bool) {
	if g.buckets == nil {
		g.buckets = make([]bucket, windowBuckets)
		for i := range g.buckets {
			g.buckets[i].idx = -1 << 62
		}
		g.last = tn
	}
	bw := int64(r.window) / windowBuckets
	if bw < 1 {
		bw = 1
	}
	bi := floorDiv(tn, bw)
	newest := floorDiv(g.last, bw)
	if bi <= newest-windowBuckets {
		return 0, true
	}
	if tn > g.last {
		g.last = tn
		newest = bi
	}
	b := &g.buckets[mod(bi, windowBuckets)]
	if b.idx != bi {
		b.idx, b.v = bi, 0
	}
	b.v += x
	if r.baseline > 0 && r.peers == nil {
		g.addPeriod(r, tn, x)
	}
	var total float64
	for i := range g.buckets {
		if g.buckets[i].idx > newest-windowBuckets && g.buckets[i].idx <= newest {
			total += g.buckets[i].v
		}
	}
	return total, false
}

func (g *group) addPeriod(r *rule, tn int64, x float64) {
	w := int64(r.window)
	np := int64(r.baseline / r.window)
	pi := floorDiv(tn, w)
	if g.periods == nil {
		g.periods = make([]bucket, np)
		for i := range g.periods {
			g.periods[i].idx = -1 << 62
		}
		g.firstP = pi
	}
	if pi < g.firstP {
		g.firstP = pi
	}
	p := &g.periods[mod(pi, np)]
	if p.idx != pi {
		if p.idx > pi {
			return // older than the baseline keeps
		}
		p.idx, p.v = pi, 0
	}
	p.v += x
}

// aboveBaseline reports whether v exceeds factor times the mean per-window
// total of the periods before the current window, with that mean. With too
// little history it is false.
func (g *group) aboveBaseline(r *rule, tn int64, v float64) (bool, float64) {
	w := int64(r.window)
	np := int64(r.baseline / r.window)
	end := floorDiv(tn-w, w) // periods before end lie wholly before the window
	hist := end - g.firstP
	if hist > np {
		hist = np
	}
	need := (int64(r.minHistory) + w - 1) / w
	if hist < need || hist <= 0 {
		return false, 0
	}
	var sum float64
	for i := range g.periods {
		if p := g.periods[i]; p.idx >= end-hist && p.idx < end {
			sum += p.v
		}
	}
	mean := sum / float64(hist)
	return v > r.factor*mean, mean
}

// addDistinct records values seen at tn and returns how many distinct
// values the window holds.
func (e *Engine) addDistinct(st *state, g *group, r *rule, tn int64, vals []string) (float64, bool) {
	if g.distinct == nil {
		g.distinct = map[string]int64{}
		g.last = tn
	}
	w := int64(r.window)
	if tn <= g.last-w {
		return 0, true
	}
	if tn > g.last {
		g.last = tn
	}
	for _, v := range vals {
		if v == "" {
			continue
		}
		if old, ok := g.distinct[v]; ok {
			if tn > old {
				g.distinct[v] = tn
			}
			continue
		}
		if st.values >= e.opts.MaxValues {
			st.stats.ValuesDropped++
			continue
		}
		v = strings.Clone(v) // keep no reference into the caller's buffers
		g.distinct[v] = tn
		g.dq = append(g.dq, dv{v, tn})
		st.values++
	}
	// Expire values not seen within the window. A value seen again since it
	// was queued goes back in the queue with its newer time.
	cutoff := g.last - w
	for g.dqHead < len(g.dq) && g.dq[g.dqHead].t <= cutoff {
		d := g.dq[g.dqHead]
		g.dq[g.dqHead] = dv{}
		g.dqHead++
		last, ok := g.distinct[d.v]
		if !ok {
			continue
		}
		if last <= cutoff {
			delete(g.distinct, d.v)
			st.values--
		} else {
			g.dq = append(g.dq, dv{d.v, last})
		}
	}
	if g.dqHead > 64 && g.dqHead*2 > len(g.dq) {
		n := copy(g.dq, g.dq[g.dqHead:])
		clear(g.dq[n:])
		g.dq, g.dqHead = g.dq[:n], 0
	}
	return float64(len(g.distinct)), false
}

// reset empties the current window after an alert, so the next alert
// needs a fresh crossing of the limit. Baseline history is kept.
func (g *group) reset(st *state) {
	for i := range g.buckets {
		g.buckets[i].v = 0
	}
	st.values -= len(g.distinct)
	clear(g.distinct)
	clear(g.dq)
	g.dq, g.dqHead = g.dq[:0], 0
	g.evidence.reset()
}

func (e *Engine) sequence(a *active, steps []int, out []event.Event) []event.Event {
	r, st := a.r, a.st
	tn := e.env.t.UnixNano()
	w := int64(r.window)
	checked, excepted := false, false
	for _, k := range steps {
		s := r.steps[k]
		if !s.pre.b(&e.env) {
			continue
		}
		if !checked {
			checked, excepted = true, e.excepted(a)
		}
		st.stats.Matched++
		if excepted {
			st.stats.Suppressed++
			return out
		}
		if tn > st.watermark {
			st.watermark = tn
		}
		var ks keySet
		combos, ok := e.evalKeys(a, s.by, &ks)
		if !ok {
			continue
		}
		for i := 0; i < combos; i++ {
			if !e.keyFor(a, &ks, i) {
				continue
			}
			g := e.lookup(a, &ks, i, w, k == 0)
			if g == nil {
				continue
			}
			if g.partials == nil {
				g.partials = make([]*partial, len(r.steps))
			}
			if tn > g.last {
				g.last = tn
			}
			if s.sum != nil {
				out = e.sumStep(a, g, k, tn, out)
				continue
			}
			if k == 0 {
				p := &partial{start: tn, last: tn, captured: make([][]value, len(r.steps))}
				if id := e.env.ev.ID; id != "" {
					p.ids = []string{id}
				}
				p.captured[0] = e.capture(s)
				g.partials[0] = p
				continue
			}
			prev := e.previous(a, g, k, tn)
			if prev == nil {
				continue
			}
			p := &partial{start: prev.start, last: tn, captured: slices2(prev.captured)}
			prevIDs := prev.evidence(e.opts.MaxEvidence)
			p.ids = append(append(make([]string, 0, len(prevIDs)+1), prevIDs...), e.env.ev.ID)
			if len(p.ids) > e.opts.MaxEvidence {
				p.ids = p.ids[len(p.ids)-e.opts.MaxEvidence:]
			}
			p.captured[k] = e.capture(s)
			if k < len(r.steps)-1 {
				g.partials[k] = p
				continue
			}
			out = e.complete(a, g, p, p.ids, out)
		}
	}
	return out
}

// previous returns the match of the step before k that the event may
// continue (in the window, not older, meeting the step's conditions on
// earlier steps), or nil.
func (e *Engine) previous(a *active, g *group, k int, tn int64) *partial {
	prev := g.partials[k-1]
	if prev == nil || tn-prev.start > int64(a.r.window) || tn < prev.last {
		return nil
	}
	if s := a.r.steps[k]; s.post != nil {
		e.env.captured = prev.captured
		ok := s.post.b(&e.env)
		e.env.captured = nil
		if !ok {
			return nil
		}
	}
	return prev
}

// sumStep adds the event to sum step k of g, and moves the sequence on
// when that completes the step.
func (e *Engine) sumStep(a *active, g *group, k int, tn int64, out []event.Event) []event.Event {
	var prev *partial
	if k > 0 {
		if prev = e.previous(a, g, k, tn); prev == nil {
			return out
		}
	}
	p, done := e.addSum(a, g, k, prev, tn)
	switch {
	case !done:
		return out
	case k < len(a.r.steps)-1:
		g.partials[k] = p
		return out
	}
	return e.complete(a, g, p, p.evidence(e.opts.MaxEvidence), out)
}

// complete raises the sequence's alert for the full match p and starts g
// afresh.
func (e *Engine) complete(a *active, g *group, p *partial, ids []string, out []event.Event) []event.Event {
	e.env.captured = p.captured
	out = append(out, e.alert(a, float64(len(a.r.steps)), groupMap(a.r.steps[0].by, g.keys), ids))
	e.env.captured = nil
	clear(g.partials)
	for i := range g.accums {
		clear(g.accums[i])
		g.accums[i] = g.accums[i][:0]
	}
	return out
}

func slices2(c [][]value) [][]value {
	return append([][]value(nil), c...)
}

func (e *Engine) capture(s *step) []value {
	if len(s.captures) == 0 {
		return nil
	}
	out := make([]value, len(s.captures))
	for i, n := range s.captures {
		out[i] = n.eval(&e.env)
	}
	return out
}

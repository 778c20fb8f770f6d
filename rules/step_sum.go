package rules

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// A sequence step with sum adds up its events instead of matching one:
//
//	step "upload" {
//	  when  = kind == "net.transfer"
//	  sum   = net.bytes_sent
//	  per   = net.dst_ip                     # optional: a sum per destination
//	  limit = steps.read.db.bytes / 20       # optional: may read earlier steps
//	}
//
// The sum runs from the previous step's match (a newer match of the
// previous step starts it again; for the first step, from its first event
// for one window), and the step completes, with every event that added to
// it as evidence, when the sum is above limit. Later events keep adding and
// update the completed step in place, so the next steps go on from it.
// Later steps and the summary read the total as steps.NAME.sum.

// stepSum compiles a step's sum, limit and per.
func (c *compiler) stepSum(st *step, at hcl.Attributes, sx *exprCtx) hcl.Diagnostics {
	var diags hcl.Diagnostics
	a := at["sum"]
	if a == nil {
		for _, name := range []string{"limit", "per"} {
			if b := at[name]; b != nil {
				diags = append(diags, errDiag(b.NameRange, "Needs sum",
					fmt.Sprintf("%s only applies to a step that adds up its events with sum.", name)))
			}
		}
		return diags
	}
	n, d := sx.compile(a.Expr)
	diags = append(diags, d...)
	if n != nil {
		switch {
		case n.typ != tNum:
			diags = append(diags, errDiag(a.Expr.Range(), "Invalid sum", fmt.Sprintf("sum needs a number, not a %s.", n.typ)))
		case n.steps:
			diags = append(diags, errDiag(a.Expr.Range(), "Invalid sum",
				"sum adds up the step's own events; read earlier steps in limit or when instead."))
		default:
			st.sum = n
			st.sumIdx = st.capture("sum", constNode(tNum, value{}, a.Expr.Range()))
		}
	}
	if b := at["limit"]; b != nil {
		n, d := sx.compile(b.Expr)
		diags = append(diags, d...)
		if n != nil && n.typ != tNum {
			diags = append(diags, errDiag(b.Expr.Range(), "Invalid limit", fmt.Sprintf("limit needs a number, not a %s.", n.typ)))
		}
		st.limit = n
	}
	if b := at["per"]; b != nil {
		n, d := sx.compile(b.Expr)
		diags = append(diags, d...)
		if n != nil {
			switch {
			case n.steps:
				diags = append(diags, errDiag(b.Expr.Range(), "Invalid per", "per is read from the step's own event, not from earlier steps."))
			case n.typ == tStr || n.typ == tNum || n.typ == tBool:
				st.per = stringer(n)
			default:
				diags = append(diags, errDiag(b.Expr.Range(), "Invalid per",
					fmt.Sprintf("per needs a string, number or bool, not a %s.", n.typ)))
			}
		}
	}
	return diags
}

// accum is a sum step's running total for one per value.
type accum struct {
	from  *partial // the previous step's match it counts from; nil for the first step
	start int64    // first event added, unix ns
	per   string
	sum   float64
	ids   idRing   // the latest contributing event ids
	done  *partial // the completed step, updated in place as the sum grows
}

// findAccum returns step k's accumulator in g for per counting from prev,
// starting a new one (and dropping those of older matches of the previous
// step, or past the window for the first step) when there is none.
func (e *Engine) findAccum(a *active, g *group, k int, per string, prev *partial, tn int64) *accum {
	if g.accums == nil {
		g.accums = make([][]*accum, len(a.r.steps))
	}
	list := g.accums[k]
	w := int64(a.r.window)
	live := list[:0]
	var found *accum
	for _, ac := range list {
		if ac.from != prev || (prev == nil && tn-ac.start > w) {
			continue
		}
		live = append(live, ac)
		if ac.per == per {
			found = ac
		}
	}
	clear(list[len(live):])
	list = live
	if found == nil {
		if len(list) >= e.opts.MaxFanout {
			a.st.stats.FanoutTruncated++
			copy(list, list[1:])
			list = list[:len(list)-1]
		}
		found = &accum{from: prev, start: tn, per: per}
		list = append(list, found)
	}
	g.accums[k] = list
	return found
}

// addSum adds the event to step k's sum and reports whether the step is
// complete, with the partial match through step k (updated in place once
// it is).
func (e *Engine) addSum(a *active, g *group, k int, prev *partial, tn int64) (*partial, bool) {
	s := a.r.steps[k]
	per := ""
	if s.per != nil {
		per = s.per(&e.env)
	}
	ac := e.findAccum(a, g, k, per, prev, tn)
	ac.sum += s.sum.n(&e.env)
	ac.ids.add(e.env.ev.ID, e.opts.MaxEvidence)
	if s.limit != nil {
		if prev != nil {
			e.env.captured = prev.captured
		}
		limit := s.limit.n(&e.env)
		e.env.captured = nil
		if ac.sum <= limit {
			return nil, false
		}
	}
	p := ac.done
	if p == nil {
		p = &partial{start: ac.start, captured: make([][]value, len(a.r.steps))}
		if prev != nil {
			p.start, p.captured = prev.start, slices2(prev.captured)
		}
		ac.done = p
	}
	p.last = tn
	p.captured[k] = e.captureInto(s, p.captured[k])
	p.captured[k][s.sumIdx] = value{n: ac.sum}
	p.acc, p.prev = ac, prev
	return p, true
}

// captureInto evaluates s's captures into buf, reusing it when it fits.
func (e *Engine) captureInto(s *step, buf []value) []value {
	if len(buf) != len(s.captures) {
		buf = make([]value, len(s.captures))
	}
	for i, n := range s.captures {
		buf[i] = n.eval(&e.env)
	}
	return buf
}

// evidence returns the ids of the events through p's step, oldest first,
// at most max (the first step's kept).
func (p *partial) evidence(max int) []string {
	if p.acc == nil {
		return p.ids
	}
	var ids []string
	if p.prev != nil {
		ids = append(ids, p.prev.evidence(max)...)
	}
	ids = append(ids, p.acc.ids.list()...)
	if len(ids) > max {
		ids = append(ids[:1], ids[len(ids)-max+1:]...)
	}
	return ids
}

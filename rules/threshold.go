package rules

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// aggKind is what a threshold adds up per group: events, a sum or distinct values.
type aggKind uint8

const (
	aggCount aggKind = iota
	aggSum
	aggDistinct
)

// maxBaselinePeriods bounds the windows a baseline keeps per group, listed
// in docs/rules.md as a memory bound.
const maxBaselinePeriods = 1024

// threshold compiles the attributes only thresholds take: limit, the
// aggregate, cooldown and baseline.
func (c *compiler) threshold(r *rule, at hcl.Attributes, x *exprCtx, src []byte) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if a := at["limit"]; a != nil {
		f, d := c.constNumber(a, x)
		diags = append(diags, d...)
		r.limit = f
	}
	aggs := 0
	if a := at["count"]; a != nil {
		aggs++
		n, d := x.compile(a.Expr)
		diags = append(diags, d...)
		if n != nil && (n.typ != tBool || !n.isConst || !n.cv.b) {
			diags = append(diags, errDiag(a.Expr.Range(), "Invalid count", "count takes no expression: write count = true, or leave it out (counting is the default)."))
		}
	}
	if a := at["sum"]; a != nil {
		aggs++
		r.agg = aggSum
		n, d := x.compile(a.Expr)
		diags = append(diags, d...)
		if n != nil && n.typ != tNum {
			diags = append(diags, errDiag(a.Expr.Range(), "Invalid sum", fmt.Sprintf("sum needs a number, not a %s.", n.typ)))
		}
		r.aggExpr = n
		if n != nil {
			diags = append(diags, checkFieldKinds(x.fieldRefs, r.kinds)...)
		}
	}
	if a := at["distinct"]; a != nil {
		aggs++
		r.agg = aggDistinct
		n, d := x.compile(a.Expr)
		diags = append(diags, d...)
		if n != nil {
			switch n.typ {
			case tStr, tList:
			case tNum, tBool:
				n = &node{typ: tStr, s: stringer(n), rng: n.rng}
			default:
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid distinct",
					fmt.Sprintf("distinct needs a string or a list of strings, not a %s.", n.typ)))
			}
		}
		r.aggExpr = n
	}
	if aggs > 1 {
		diags = append(diags, errDiag(r.rng, "Conflicting aggregates", "Use only one of count, sum and distinct."))
	}
	if a := at["cooldown"]; a != nil {
		d0, d := c.duration(a, x)
		diags = append(diags, d...)
		r.cooldown = d0
	}
	if a := at["baseline"]; a != nil {
		b, d := c.duration(a, x)
		diags = append(diags, d...)
		r.baseline = b
		r.factor = 3
		if r.agg == aggDistinct && at["peers"] == nil {
			diags = append(diags, errDiag(a.NameRange, "Unsupported baseline", "baseline works with count and sum, not distinct (distinct works with peers)."))
		}
		if !d.HasErrors() && r.window > 0 {
			if b < 2*r.window || b/r.window > maxBaselinePeriods {
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid baseline",
					fmt.Sprintf("baseline must cover between 2 and %d windows.", maxBaselinePeriods)))
			}
		}
		r.minHistory = 3 * r.window
		if a := at["min_history"]; a != nil {
			m, d := c.duration(a, x)
			diags = append(diags, d...)
			r.minHistory = m
		}
		if a := at["factor"]; a != nil {
			f, d := c.constNumber(a, x)
			diags = append(diags, d...)
			if !d.HasErrors() && f <= 0 {
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid factor", "factor must be above 0."))
			}
			r.factor = f
		}
		if a := at["peers"]; a != nil {
			diags = append(diags, c.peerKeys(r, a, src)...)
			r.minPeers = defaultMinPeers
			if a := at["min_peers"]; a != nil {
				f, d := c.constNumber(a, x)
				diags = append(diags, d...)
				if !d.HasErrors() && (f < 1 || f != float64(int(f))) {
					diags = append(diags, errDiag(a.Expr.Range(), "Invalid min_peers", "min_peers must be a whole number, 1 or more."))
				}
				r.minPeers = int(f)
			}
		} else if a := at["min_peers"]; a != nil {
			diags = append(diags, errDiag(a.NameRange, "Needs peers", "min_peers only applies to thresholds with peers."))
		}
	} else {
		for _, name := range []string{"factor", "min_history", "peers", "min_peers"} {
			if a := at[name]; a != nil {
				diags = append(diags, errDiag(a.NameRange, "Needs baseline",
					fmt.Sprintf("%s only applies to thresholds with a baseline.", name)))
			}
		}
	}
	return diags
}

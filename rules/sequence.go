package rules

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// step is one compiled step block of a sequence.
type step struct {
	name string
	pre  *node // conditions on the event alone
	post *node // conditions reading earlier steps; may be nil
	by   []keyExpr
	// captures are the fields later steps and the summary read from this
	// step's event, evaluated when the step matches.
	captures   []*node
	captureIdx map[string]int
	kinds      kindSet

	// A step with sum completes once the sum of its events since the
	// previous step, per value of per, is above limit (see step_sum.go).
	sum    *node
	limit  *node // may read earlier steps; nil: any sum completes the step
	per    func(*env) string
	sumIdx int // the capture slot holding the sum, read as steps.NAME.sum
}

// capture registers a field of the step's event that later steps or the
// summary read, returning its index in the step's captured values.
func (s *step) capture(key string, n *node) int {
	if i, ok := s.captureIdx[key]; ok {
		return i
	}
	if s.captureIdx == nil {
		s.captureIdx = map[string]int{}
	}
	s.captures = append(s.captures, n)
	s.captureIdx[key] = len(s.captures) - 1
	return len(s.captures) - 1
}

// conjuncts splits a && b && c into its parts.
func conjuncts(e hclsyntax.Expression) []hclsyntax.Expression {
	switch e := e.(type) {
	case *hclsyntax.BinaryOpExpr:
		if e.Op == hclsyntax.OpLogicalAnd {
			return append(conjuncts(e.LHS), conjuncts(e.RHS)...)
		}
	case *hclsyntax.ParenthesesExpr:
		return conjuncts(e.Expression)
	}
	return []hclsyntax.Expression{e}
}

// andNodes joins bool nodes with &&, nil for none.
func andNodes(ns []*node) *node {
	if len(ns) == 0 {
		return nil
	}
	out := ns[0]
	for _, n := range ns[1:] {
		a, b := out.b, n.b
		out = &node{typ: tBool, b: func(e *env) bool { return a(e) && b(e) }, kinds: out.kinds.intersect(n.kinds)}
	}
	return out
}

// steps compiles a sequence's step blocks; a step's condition splits into
// the parts on its own event (pre) and those reading earlier steps (post).
func (c *compiler) steps(r *rule, blocks hcl.Blocks, x *exprCtx, bi blockIn) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]hcl.Range{}
	for _, b := range blocks {
		name := b.Labels[0]
		if prev, ok := seen[name]; ok {
			diags = append(diags, errDiag(b.LabelRanges[0], "Duplicate step",
				fmt.Sprintf("A step named %q is already defined at %s.", name, prev.String())))
			continue
		}
		seen[name] = b.LabelRanges[0]
		content, d := b.Body.Content(stepSchema)
		diags = append(diags, d...)
		st := &step{name: name}
		sx := &exprCtx{c: c, steps: append([]*step(nil), r.steps...)}
		r.steps = append(r.steps, st)
		if a := content.Attributes["when"]; a != nil {
			var pre, post []*node
			se, ok := a.Expr.(hclsyntax.Expression)
			if !ok {
				continue
			}
			for _, part := range conjuncts(se) {
				n, d := sx.compileBool(part, "step condition")
				diags = append(diags, d...)
				if n == nil {
					continue
				}
				if n.steps {
					post = append(post, n)
				} else {
					pre = append(pre, n)
				}
			}
			if len(pre) == 0 && !diags.HasErrors() {
				diags = append(diags, errDiag(a.Expr.Range(), "Step needs its own condition",
					"A step must test its own event (e.g. kind == \"file.write\"), not only earlier steps."))
				continue
			}
			st.pre, st.post = andNodes(pre), andNodes(post)
			if st.pre != nil {
				st.kinds = st.pre.kinds
				diags = append(diags, checkFieldKinds(sx.fieldRefs, st.kinds)...)
			}
		}
		diags = append(diags, c.stepSum(st, content.Attributes, sx)...)
		if a := content.Attributes["by"]; a != nil {
			keys, d := c.keys(a, sx, bi.file.data)
			diags = append(diags, d...)
			st.by = keys
		} else {
			st.by = r.by
		}
		x.merge(sx)
	}
	if len(r.steps) < 2 && !diags.HasErrors() {
		diags = append(diags, errDiag(bi.b.DefRange, "Too few steps", "A sequence needs at least two step blocks."))
	}
	if diags.HasErrors() {
		return diags
	}
	for i, st := range r.steps {
		if len(st.by) != len(r.steps[0].by) {
			diags = append(diags, errDiag(blocks[i].DefRange, "Mismatched keys",
				fmt.Sprintf("Step %q has %d join keys but step %q has %d; steps join by position.",
					st.name, len(st.by), r.steps[0].name, len(r.steps[0].by))))
		}
		if len(st.by) == 0 {
			diags = append(diags, errDiag(blocks[i].DefRange, "Missing by",
				"A sequence needs join keys: set by on the sequence or on every step."))
		}
		if i == 0 {
			r.kinds = st.kinds
		} else {
			r.kinds = r.kinds.union(st.kinds)
		}
	}
	return diags
}

package rules

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// variable is a variable block: a named constant whose default a values
// block or a test may replace.
type variable struct {
	name string
	typ  vtype
	val  value
	used bool
	rng  hcl.Range
	set  *hcl.Range // where a values block set it
}

// namedList is a list block: a named constant list of strings.
type namedList struct {
	name  string
	items []string
	used  bool
	rng   hcl.Range
}

// condDef is a condition block: a named bool expression, compiled once when
// first referred to.
type condDef struct {
	name      string
	expr      hcl.Expression
	src       string
	rng       hcl.Range
	state     int // 0 new, 1 compiling, 2 done
	node      *node
	deps      map[string]string
	fieldRefs []fieldRef
	used      bool
}

// memoEntry is one condition's result for the event an engine is on (gen).
type memoEntry struct {
	gen uint64
	v   bool
}

// compileVariables declares the variable blocks, then applies the values
// blocks and the overrides on top of their defaults.
func (c *compiler) compileVariables(vars, values []blockIn, overrides map[string]cty.Value) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, bi := range vars {
		if d := c.declare("variable", bi.b); d != nil {
			diags = append(diags, d)
			continue
		}
		content, d := bi.b.Body.Content(variableSchema)
		diags = append(diags, d...)
		a := content.Attributes["default"]
		if a == nil {
			continue
		}
		v, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		t, val, msg := ctyToValue(v)
		if msg != "" {
			diags = append(diags, errDiag(a.Expr.Range(), "Invalid variable value", msg))
			continue
		}
		c.vars[bi.b.Labels[0]] = &variable{name: bi.b.Labels[0], typ: t, val: val, rng: bi.b.LabelRanges[0]}
	}
	for _, bi := range values {
		attrs, d := bi.b.Body.JustAttributes()
		diags = append(diags, d...)
		for _, a := range sortedAttrs(attrs) {
			diags = append(diags, c.setVar(a.Name, a.NameRange, a.Expr)...)
		}
	}
	for name, v := range overrides {
		vr, ok := c.vars[name]
		if !ok {
			continue // reported by the test that set it
		}
		t, val, msg := ctyToValue(v)
		if msg == "" && t == vr.typ {
			vr.val = val
		}
	}
	return diags
}

// compileLists declares the list blocks.
func (c *compiler) compileLists(blocks []blockIn) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, bi := range blocks {
		if d := c.declare("list", bi.b); d != nil {
			diags = append(diags, d)
			continue
		}
		content, d := bi.b.Body.Content(listSchema)
		diags = append(diags, d...)
		a := content.Attributes["items"]
		if a == nil {
			continue
		}
		x := &exprCtx{c: c}
		n, d := x.compile(a.Expr)
		diags = append(diags, d...)
		if n == nil {
			continue
		}
		if n.typ != tList || !n.isConst {
			diags = append(diags, errDiag(a.Expr.Range(), "Invalid list", "items must be a constant list of strings."))
			continue
		}
		c.lists[bi.b.Labels[0]] = &namedList{name: bi.b.Labels[0], items: n.cv.l, rng: bi.b.LabelRanges[0]}
	}
	return diags
}

// compileConditions declares the condition blocks, then compiles those no
// other condition has compiled by referring to them.
func (c *compiler) compileConditions(blocks []blockIn) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, bi := range blocks {
		if d := c.declare("condition", bi.b); d != nil {
			diags = append(diags, d)
			continue
		}
		content, d := bi.b.Body.Content(conditionSchema)
		diags = append(diags, d...)
		if a := content.Attributes["when"]; a != nil {
			c.conds[bi.b.Labels[0]] = &condDef{name: bi.b.Labels[0], expr: a.Expr, src: bi.src(), rng: bi.b.LabelRanges[0]}
		}
	}
	for _, name := range sortedKeys(c.conds) {
		cd := c.conds[name]
		_, d := c.condition(cd, cd.rng)
		diags = append(diags, d...)
	}
	return diags
}

// condition returns a copy of cd's compiled node, compiling it on first
// use; ref is where it is referred to, for reporting a cycle.
func (c *compiler) condition(cd *condDef, ref hcl.Range) (*node, hcl.Diagnostics) {
	switch cd.state {
	case 1:
		return nil, hcl.Diagnostics{errDiag(ref, "Condition refers to itself",
			fmt.Sprintf("Condition %q is part of a cycle of conditions referring to each other.", cd.name))}
	case 2:
		if cd.node == nil {
			return nil, nil // its own errors were reported where it is defined
		}
		cp := *cd.node
		return &cp, nil
	}
	cd.state = 1
	x := &exprCtx{c: c}
	n, diags := x.compileBool(cd.expr, "condition")
	cd.state = 2
	if n != nil && !n.isConst {
		n = c.memoise(n)
	}
	cd.node, cd.deps, cd.fieldRefs = n, x.deps, x.fieldRefs
	if n == nil {
		return nil, diags
	}
	cp := *n
	return &cp, diags
}

// memoise makes a condition evaluate once per event however many rules use
// it: the result is kept in the engine's env for the event it is on.
func (c *compiler) memoise(n *node) *node {
	id, inner := c.nconds, n.b
	c.nconds++
	m := *n
	m.b = func(e *env) bool {
		if id >= len(e.memo) {
			return inner(e)
		}
		slot := &e.memo[id]
		if slot.gen != e.gen {
			slot.gen, slot.v = e.gen, inner(e)
		}
		return slot.v
	}
	return &m
}

// sortedAttrs orders attributes as they appear in the file.
func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NameRange.Start.Byte < out[j].NameRange.Start.Byte })
	return out
}

// setVar applies one attribute of a values block.
func (c *compiler) setVar(name string, rng hcl.Range, expr hcl.Expression) hcl.Diagnostics {
	v, ok := c.vars[name]
	if !ok {
		return hcl.Diagnostics{errDiag(rng, "Unknown variable",
			fmt.Sprintf("There is no variable named %q to set.%s", name, suggest(name, sortedKeys(c.vars))))}
	}
	if v.set != nil {
		return hcl.Diagnostics{errDiag(rng, "Variable set twice",
			fmt.Sprintf("Variable %q was already set at %s.", name, v.set.String()))}
	}
	cv, diags := expr.Value(nil)
	if diags.HasErrors() {
		return diags
	}
	t, val, msg := ctyToValue(cv)
	if msg != "" {
		return append(diags, errDiag(expr.Range(), "Invalid variable value", msg))
	}
	if t != v.typ {
		return append(diags, errDiag(expr.Range(), "Type mismatch",
			fmt.Sprintf("Variable %q is a %s (from its default), but this value is a %s.", name, v.typ, t)))
	}
	v.val = val
	v.set = rng.Ptr()
	return diags
}

// unusedDeclarations warns of lists, variables and conditions nothing uses.
func (c *compiler) unusedDeclarations() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range sortedKeys(c.lists) {
		if l := c.lists[name]; !l.used {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unused list",
				Detail: fmt.Sprintf("List %q is not used by any rule, condition or exception.", name), Subject: l.rng.Ptr()})
		}
	}
	for _, name := range sortedKeys(c.vars) {
		if v := c.vars[name]; !v.used {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unused variable",
				Detail: fmt.Sprintf("Variable %q is not used by any rule, condition or exception.", name), Subject: v.rng.Ptr()})
		}
	}
	for _, name := range sortedKeys(c.conds) {
		if cd := c.conds[name]; !cd.used && cd.node != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unused condition",
				Detail: fmt.Sprintf("Condition %q is not used by any rule, condition or exception.", name), Subject: cd.rng.Ptr()})
		}
	}
	return diags
}

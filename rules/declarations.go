package rules

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
)

type variable struct {
	name string
	typ  vtype
	val  value
	used bool
	rng  hcl.Range
	set  *hcl.Range // where a values block set it
}

type namedList struct {
	name  string
	items []string
	used  bool
	rng   hcl.Range
}

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
	cd.node, cd.deps, cd.fieldRefs = n, x.deps, x.fieldRefs
	if n == nil {
		return nil, diags
	}
	cp := *n
	return &cp, diags
}

func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NameRange.Start.Byte < out[j].NameRange.Start.Byte })
	return out
}

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

package rules

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// exprCtx is where an expression is compiled: which names it may use
// besides event fields, and what it depended on (for rule fingerprints).
type exprCtx struct {
	c *compiler
	// steps names the sequence steps the expression may read as steps.NAME;
	// nil outside sequences.
	steps []*step
	// summary allows value, group and rule (alert summary templates).
	summary bool
	// deps records the variables, lists and conditions used, with their
	// content, so a rule's fingerprint changes when any of them does.
	deps map[string]string
	// fieldRefs records the event fields read, to check them against the
	// kinds the rule can match.
	fieldRefs []fieldRef
}

// fieldRef is an event field an expression reads, and where.
type fieldRef struct {
	path string
	rng  hcl.Range
}

// dep records a name the expression used, with its content.
func (x *exprCtx) dep(name, content string) {
	if x.deps == nil {
		x.deps = map[string]string{}
	}
	x.deps[name] = content
}

// merge adds o's dependencies to x's.
func (x *exprCtx) merge(o *exprCtx) {
	for k, v := range o.deps {
		x.dep(k, v)
	}
}

// compileBool compiles a condition that must be a bool.
func (x *exprCtx) compileBool(expr hcl.Expression, what string) (*node, hcl.Diagnostics) {
	n, diags := x.compile(expr)
	if diags.HasErrors() {
		return nil, diags
	}
	if n.typ != tBool {
		return nil, append(diags, errDiag(expr.Range(), "Condition is not a bool",
			fmt.Sprintf("The %s must be true or false, but this expression is a %s.", what, n.typ)))
	}
	return n, diags
}

// compile turns an HCL expression into an evaluator.
func (x *exprCtx) compile(expr hcl.Expression) (*node, hcl.Diagnostics) {
	se, ok := expr.(hclsyntax.Expression)
	if !ok {
		return nil, hcl.Diagnostics{errDiag(expr.Range(), "Unsupported expression",
			"Rule files must use HCL native syntax.")}
	}
	n, diags := x.expr(se)
	if n == nil {
		if !diags.HasErrors() {
			diags = append(diags, errDiag(se.Range(), "Invalid expression", "This expression could not be compiled."))
		}
		return nil, diags
	}
	n.rng = se.Range()
	return n, diags
}

// expr compiles one kind of expression.
func (x *exprCtx) expr(e hclsyntax.Expression) (*node, hcl.Diagnostics) {
	switch e := e.(type) {
	case *hclsyntax.LiteralValueExpr:
		return literal(e.Val, e.SrcRange)
	case *hclsyntax.ParenthesesExpr:
		return x.compile(e.Expression)
	case *hclsyntax.ScopeTraversalExpr:
		return x.traversal(e.Traversal, e.SrcRange)
	case *hclsyntax.RelativeTraversalExpr:
		src, diags := x.compile(e.Source)
		if diags.HasErrors() {
			return nil, diags
		}
		n, more := x.applyTraversal(src, e.Traversal, "")
		return n, append(diags, more...)
	case *hclsyntax.IndexExpr:
		return x.index(e)
	case *hclsyntax.BinaryOpExpr:
		return x.binary(e)
	case *hclsyntax.UnaryOpExpr:
		return x.unary(e)
	case *hclsyntax.ConditionalExpr:
		return x.conditional(e)
	case *hclsyntax.TupleConsExpr:
		return x.tuple(e)
	case *hclsyntax.FunctionCallExpr:
		return x.call(e)
	case *hclsyntax.TemplateWrapExpr:
		return x.compile(e.Wrapped)
	case *hclsyntax.TemplateExpr:
		return x.template(e)
	case *hclsyntax.ObjectConsExpr:
		return nil, hcl.Diagnostics{errDiag(e.SrcRange, "Unsupported expression",
			"Objects are not supported in rule expressions.")}
	case *hclsyntax.ForExpr, *hclsyntax.SplatExpr:
		return nil, hcl.Diagnostics{errDiag(e.Range(), "Unsupported expression",
			"For and splat expressions are not supported in rule expressions; use contains, glob or a list.")}
	}
	return nil, hcl.Diagnostics{errDiag(e.Range(), "Unsupported expression",
		"This kind of expression is not supported in rule expressions.")}
}

// literal compiles a constant from the source.
func literal(v cty.Value, rng hcl.Range) (*node, hcl.Diagnostics) {
	t, val, err := ctyToValue(v)
	if err != "" {
		return nil, hcl.Diagnostics{errDiag(rng, "Unsupported value", err)}
	}
	return constNode(t, val, rng), nil
}

// ctyToValue converts a constant (literal, variable default) to a value.
func ctyToValue(v cty.Value) (vtype, value, string) {
	if v.IsNull() {
		return tInvalid, value{}, "null is not supported in rules."
	}
	if !v.IsKnown() {
		return tInvalid, value{}, "The value is not known."
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return tStr, value{s: v.AsString()}, ""
	case ty == cty.Number:
		f, _ := v.AsBigFloat().Float64()
		return tNum, value{n: f}, ""
	case ty == cty.Bool:
		return tBool, value{b: v.True()}, ""
	case ty.IsTupleType() || ty.IsListType() || ty.IsSetType():
		l := make([]string, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			if ev.IsNull() || !ev.IsKnown() || ev.Type() != cty.String {
				return tInvalid, value{}, "Lists may hold only strings."
			}
			l = append(l, ev.AsString())
		}
		return tList, value{l: l}, ""
	case ty.IsObjectType() || ty.IsMapType():
		m := map[string]string{}
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			if ev.IsNull() || !ev.IsKnown() || ev.Type() != cty.String {
				return tInvalid, value{}, "Maps may hold only strings."
			}
			m[k.AsString()] = ev.AsString()
		}
		return tMap, value{m: m}, ""
	}
	return tInvalid, value{}, fmt.Sprintf("Values of type %s are not supported.", ty.FriendlyName())
}

// tuple compiles [a, b, ...], a list of strings.
func (x *exprCtx) tuple(e *hclsyntax.TupleConsExpr) (*node, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var elems []*node
	allConst := true
	for _, ex := range e.Exprs {
		n, more := x.compile(ex)
		diags = append(diags, more...)
		if n == nil {
			continue
		}
		if n.typ != tStr {
			diags = append(diags, errDiag(ex.Range(), "Type mismatch",
				fmt.Sprintf("Lists may hold only strings; this is a %s.", n.typ)))
			continue
		}
		allConst = allConst && n.isConst
		elems = append(elems, n)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	if allConst {
		l := make([]string, len(elems))
		for i, n := range elems {
			l[i] = n.cv.s
		}
		return constNode(tList, value{l: l}, e.SrcRange), diags
	}
	// Built per evaluation: this allocates, so keep such lists off hot paths.
	out := &node{typ: tList, l: func(e *env) []string {
		l := make([]string, len(elems))
		for i, n := range elems {
			l[i] = n.s(e)
		}
		return l
	}}
	for _, n := range elems {
		out.steps = out.steps || n.steps
	}
	return out, diags
}

// template compiles "text ${expr} text" to a string.
func (x *exprCtx) template(e *hclsyntax.TemplateExpr) (*node, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var parts []func(*env) string
	steps, allConst := false, true
	for _, p := range e.Parts {
		n, more := x.compile(p)
		diags = append(diags, more...)
		if n == nil {
			continue
		}
		steps = steps || n.steps
		allConst = allConst && n.isConst
		parts = append(parts, stringer(n))
	}
	if diags.HasErrors() {
		return nil, diags
	}
	out := &node{typ: tStr, steps: steps, s: func(e *env) string {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p(e))
		}
		return b.String()
	}}
	if len(parts) == 1 {
		out.s = parts[0]
	}
	if allConst {
		return constNode(tStr, value{s: out.s(nil)}, e.SrcRange), diags
	}
	return out, diags
}

// stringer renders any node as text, for templates and group keys.
func stringer(n *node) func(*env) string {
	if n.typ == tStr {
		return n.s
	}
	return func(e *env) string { return formatValue(n.typ, n.eval(e)) }
}

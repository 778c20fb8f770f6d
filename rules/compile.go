package rules

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/vigilhq/vigil/event"
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

type fieldRef struct {
	path string
	rng  hcl.Range
}

func (x *exprCtx) dep(name, content string) {
	if x.deps == nil {
		x.deps = map[string]string{}
	}
	x.deps[name] = content
}

func errDiag(rng hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()}
}

// suggest returns ` Did you mean "x"?` for the closest candidate, or "".
func suggest(name string, candidates []string) string {
	best, bestD := "", 4
	for _, c := range candidates {
		d := levenshtein.Distance(name, c, nil)
		if d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	// Very short names are too easy to match by accident.
	if best == "" || bestD >= 3 && len(name) < 6 || bestD > len(name)/2+1 {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
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

func (x *exprCtx) traversal(tr hcl.Traversal, rng hcl.Range) (*node, hcl.Diagnostics) {
	root := tr.RootName()
	rest := tr[1:]
	attr := func(what string) (string, hcl.Range, hcl.Diagnostics) {
		if len(rest) == 0 {
			return "", rng, hcl.Diagnostics{errDiag(rng, "Incomplete reference",
				fmt.Sprintf("%s must be followed by a name, as in %s.NAME.", root, root))}
		}
		a, ok := rest[0].(hcl.TraverseAttr)
		if !ok {
			return "", rest[0].SourceRange(), hcl.Diagnostics{errDiag(rest[0].SourceRange(), "Invalid reference",
				fmt.Sprintf("Refer to %s by name, as in %s.NAME.", what, root))}
		}
		rest = rest[1:]
		return a.Name, a.SrcRange, nil
	}
	switch root {
	case "var":
		name, nrng, diags := attr("variables")
		if diags != nil {
			return nil, diags
		}
		v, ok := x.c.vars[name]
		if !ok {
			return nil, hcl.Diagnostics{errDiag(hcl.RangeBetween(tr[0].SourceRange(), nrng), "Unknown variable",
				fmt.Sprintf("There is no variable named %q.%s", name, suggest(name, sortedKeys(x.c.vars))))}
		}
		v.used = true
		x.dep("var."+name, formatValue(v.typ, v.val))
		return x.applyTraversal(constNode(v.typ, v.val, rng), rest, "var."+name)
	case "list":
		name, nrng, diags := attr("lists")
		if diags != nil {
			return nil, diags
		}
		l, ok := x.c.lists[name]
		if !ok {
			return nil, hcl.Diagnostics{errDiag(hcl.RangeBetween(tr[0].SourceRange(), nrng), "Unknown list",
				fmt.Sprintf("There is no list named %q.%s", name, suggest(name, sortedKeys(x.c.lists))))}
		}
		l.used = true
		x.dep("list."+name, strings.Join(l.items, "\x00"))
		return x.applyTraversal(constNode(tList, value{l: l.items}, rng), rest, "list."+name)
	case "cond":
		name, nrng, diags := attr("conditions")
		if diags != nil {
			return nil, diags
		}
		cd, ok := x.c.conds[name]
		if !ok {
			return nil, hcl.Diagnostics{errDiag(hcl.RangeBetween(tr[0].SourceRange(), nrng), "Unknown condition",
				fmt.Sprintf("There is no condition named %q.%s", name, suggest(name, sortedKeys(x.c.conds))))}
		}
		n, diags := x.c.condition(cd, hcl.RangeBetween(tr[0].SourceRange(), nrng))
		if n == nil {
			if !diags.HasErrors() {
				diags = append(diags, errDiag(hcl.RangeBetween(tr[0].SourceRange(), nrng), "Invalid condition",
					fmt.Sprintf("Condition %q has errors, reported where it is defined.", name)))
			}
			return nil, diags
		}
		cd.used = true
		x.dep("cond."+name, cd.src)
		for k, v := range cd.deps {
			x.dep(k, v)
		}
		x.fieldRefs = append(x.fieldRefs, cd.fieldRefs...)
		if len(rest) > 0 {
			return nil, hcl.Diagnostics{errDiag(rest[0].SourceRange(), "Invalid reference", "A condition is a bool; it has no attributes.")}
		}
		return n, diags
	case "steps":
		if x.steps == nil {
			break
		}
		return x.stepRef(tr, rng)
	case "value", "group", "rule":
		if !x.summary {
			break
		}
		var n *node
		switch root {
		case "value":
			n = &node{typ: tNum, n: func(e *env) float64 { return e.value }}
		case "group":
			n = &node{typ: tMap, m: func(e *env) map[string]string { return e.group }}
		case "rule":
			n = &node{typ: tStr, s: func(e *env) string { return e.rule }}
		}
		return x.applyTraversal(n, rest, root)
	}
	n, rest, diags := x.field(tr, rng)
	if diags.HasErrors() {
		return nil, diags
	}
	return x.applyTraversal(n, rest, "")
}

// field resolves an event field path at the start of tr.
func (x *exprCtx) field(tr hcl.Traversal, rng hcl.Range) (*node, hcl.Traversal, hcl.Diagnostics) {
	path := tr.RootName()
	rest := tr[1:]
	end := tr[0].SourceRange()
	for {
		if f, ok := fields[path]; ok {
			x.fieldRefs = append(x.fieldRefs, fieldRef{path: path, rng: hcl.RangeBetween(tr[0].SourceRange(), end)})
			n := f.node()
			n.isKind = path == "kind"
			return n, rest, nil
		}
		isPayload := false
		for _, p := range payloadRoots {
			if p == path {
				isPayload = true
			}
		}
		if !isPayload && strings.IndexByte(path, '.') < 0 {
			cands := append(append(fieldPaths(), payloadRoots...), "var", "list", "cond")
			if x.steps != nil {
				cands = append(cands, "steps")
			}
			if x.summary {
				cands = append(cands, "value", "group", "rule")
			}
			return nil, nil, hcl.Diagnostics{errDiag(end, "Unknown field",
				fmt.Sprintf("There is no event field or name %q.%s", path, suggest(path, cands)))}
		}
		if len(rest) == 0 {
			return nil, nil, hcl.Diagnostics{errDiag(hcl.RangeBetween(tr[0].SourceRange(), end), "Incomplete field",
				fmt.Sprintf("%s is an object; use one of its fields: %s.", path, strings.Join(fieldsUnder(path), ", ")))}
		}
		a, ok := rest[0].(hcl.TraverseAttr)
		if !ok {
			return nil, nil, hcl.Diagnostics{errDiag(rest[0].SourceRange(), "Invalid field reference",
				fmt.Sprintf("Use %s.FIELD to read a field of %s.", path, path))}
		}
		next := path + "." + a.Name
		if _, ok := fields[next]; !ok && isPayload {
			return nil, nil, hcl.Diagnostics{errDiag(hcl.RangeBetween(tr[0].SourceRange(), a.SrcRange), "Unknown field",
				fmt.Sprintf("There is no event field %q.%s", next, suggest(next, fieldsUnder(path))))}
		}
		path = next
		end = a.SrcRange
		rest = rest[1:]
	}
}

// stepRef compiles steps.NAME.FIELD: a field of the event that matched an
// earlier step, captured when that step matched.
func (x *exprCtx) stepRef(tr hcl.Traversal, rng hcl.Range) (*node, hcl.Diagnostics) {
	if len(tr) < 3 {
		return nil, hcl.Diagnostics{errDiag(rng, "Incomplete reference", "Use steps.STEP.FIELD, e.g. steps.write.file.bytes.")}
	}
	a, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return nil, hcl.Diagnostics{errDiag(tr[1].SourceRange(), "Invalid reference", "Use steps.STEP.FIELD, e.g. steps.write.file.bytes.")}
	}
	si := -1
	var names []string
	for i, s := range x.steps {
		names = append(names, s.name)
		if s.name == a.Name {
			si = i
		}
	}
	if si < 0 {
		detail := fmt.Sprintf("There is no earlier step named %q.%s", a.Name, suggest(a.Name, names))
		if len(names) == 0 {
			detail = "The first step cannot refer to other steps."
		}
		return nil, hcl.Diagnostics{errDiag(hcl.RangeBetween(tr[0].SourceRange(), a.SrcRange), "Unknown step", detail)}
	}
	// Resolve the field as if it were read from the step's own event.
	fa, isAttr := tr[2].(hcl.TraverseAttr)
	if !isAttr {
		return nil, hcl.Diagnostics{errDiag(tr[2].SourceRange(), "Invalid reference", "Use steps.STEP.FIELD.")}
	}
	sub := hcl.Traversal{hcl.TraverseRoot{Name: fa.Name, SrcRange: fa.SrcRange}}
	sub = append(sub, tr[3:]...)
	inner := &exprCtx{c: x.c}
	fn, rest, diags := inner.field(sub, rng)
	if diags.HasErrors() {
		return nil, diags
	}
	st := x.steps[si]
	key := ""
	for _, s := range sub[:len(sub)-len(rest)] {
		switch s := s.(type) {
		case hcl.TraverseRoot:
			key = s.Name
		case hcl.TraverseAttr:
			key += "." + s.Name
		}
	}
	ci := st.capture(key, fn)
	n := valueNode(fn.typ, func(e *env) *value { return &e.captured[si][ci] }, rng)
	return x.applyTraversal(n, rest, "steps."+st.name+"."+key)
}

// applyTraversal indexes maps and lists: labels.team, labels["team"],
// db.identifiers["customer_id"], db.tables[0].
func (x *exprCtx) applyTraversal(n *node, rest hcl.Traversal, what string) (*node, hcl.Diagnostics) {
	for _, t := range rest {
		var key cty.Value
		switch t := t.(type) {
		case hcl.TraverseAttr:
			key = cty.StringVal(t.Name)
		case hcl.TraverseIndex:
			key = t.Key
		default:
			return nil, hcl.Diagnostics{errDiag(t.SourceRange(), "Invalid reference", "Unsupported traversal.")}
		}
		kn, diags := literal(key, t.SourceRange())
		if diags.HasErrors() {
			return nil, diags
		}
		var err *hcl.Diagnostic
		n, err = indexNode(n, kn, t.SourceRange(), what)
		if err != nil {
			return nil, hcl.Diagnostics{err}
		}
	}
	return n, nil
}

func (x *exprCtx) index(e *hclsyntax.IndexExpr) (*node, hcl.Diagnostics) {
	coll, diags := x.compile(e.Collection)
	if diags.HasErrors() {
		return nil, diags
	}
	key, more := x.compile(e.Key)
	diags = append(diags, more...)
	if diags.HasErrors() {
		return nil, diags
	}
	n, err := indexNode(coll, key, e.Key.Range(), "")
	if err != nil {
		return nil, append(diags, err)
	}
	return n, diags
}

func indexNode(coll, key *node, rng hcl.Range, what string) (*node, *hcl.Diagnostic) {
	if what == "" {
		what = "this " + coll.typ.String()
	}
	switch coll.typ {
	case tMap, tIdents:
		if key.typ != tStr {
			return nil, errDiag(rng, "Invalid index", fmt.Sprintf("%s is indexed by string keys, not a %s.", what, key.typ))
		}
		m, im, ks := coll.m, coll.im, key.s
		var out *node
		if coll.typ == tMap {
			out = &node{typ: tStr, s: func(e *env) string { return m(e)[ks(e)] }}
			if key.isConst {
				k := key.cv.s
				out.s = func(e *env) string { return m(e)[k] }
			}
		} else {
			out = &node{typ: tList, l: func(e *env) []string { return im(e)[ks(e)] }}
			if key.isConst {
				k := key.cv.s
				out.l = func(e *env) []string { return im(e)[k] }
			}
		}
		out.steps = coll.steps || key.steps
		return out, nil
	case tList:
		if key.typ != tNum {
			return nil, errDiag(rng, "Invalid index", fmt.Sprintf("%s is indexed by numbers, not a %s.", what, key.typ))
		}
		l, kn := coll.l, key.n
		return &node{typ: tStr, steps: coll.steps || key.steps, s: func(e *env) string {
			list, i := l(e), kn(e)
			if i < 0 || i >= float64(len(list)) || i != math.Trunc(i) {
				return ""
			}
			return list[int(i)]
		}}, nil
	}
	return nil, errDiag(rng, "Invalid index", fmt.Sprintf("%s cannot be indexed.", what))
}

func typeErr(rng hcl.Range, op string, want string, got vtype) *hcl.Diagnostic {
	return errDiag(rng, "Type mismatch", fmt.Sprintf("The %s operator needs %s, but this is a %s.", op, want, got))
}

func (x *exprCtx) binary(e *hclsyntax.BinaryOpExpr) (*node, hcl.Diagnostics) {
	l, diags := x.compile(e.LHS)
	r, more := x.compile(e.RHS)
	diags = append(diags, more...)
	if diags.HasErrors() {
		return nil, diags
	}
	out := &node{steps: l.steps || r.steps}
	switch e.Op {
	case hclsyntax.OpLogicalAnd, hclsyntax.OpLogicalOr:
		name := "&&"
		if e.Op == hclsyntax.OpLogicalOr {
			name = "||"
		}
		if l.typ != tBool {
			return nil, append(diags, typeErr(e.LHS.Range(), name, "bools", l.typ))
		}
		if r.typ != tBool {
			return nil, append(diags, typeErr(e.RHS.Range(), name, "bools", r.typ))
		}
		lb, rb := l.b, r.b
		out.typ = tBool
		if e.Op == hclsyntax.OpLogicalAnd {
			out.b = func(e *env) bool { return lb(e) && rb(e) }
			out.kinds = l.kinds.intersect(r.kinds)
			if out.kinds != nil && len(out.kinds) == 0 {
				diags = append(diags, errDiag(e.SrcRange, "Condition is never true",
					"The two sides require different event kinds, so both can never hold."))
			}
		} else {
			out.b = func(e *env) bool { return lb(e) || rb(e) }
			out.kinds = l.kinds.union(r.kinds)
		}
		return out, diags
	case hclsyntax.OpEqual, hclsyntax.OpNotEqual:
		name := "=="
		if e.Op == hclsyntax.OpNotEqual {
			name = "!="
		}
		if l.typ != r.typ {
			return nil, append(diags, errDiag(e.SrcRange, "Type mismatch",
				fmt.Sprintf("Cannot compare a %s with a %s using %s.", l.typ, r.typ, name)))
		}
		if d := checkKindLiteral(x, l, r); d != nil {
			return nil, append(diags, d)
		}
		eq := equality(l, r)
		if eq == nil {
			return nil, append(diags, errDiag(e.SrcRange, "Type mismatch",
				fmt.Sprintf("Values of type %s cannot be compared with %s.", l.typ, name)))
		}
		out.typ = tBool
		if e.Op == hclsyntax.OpEqual {
			out.b = eq
			out.kinds = kindEquality(x, l, r)
		} else {
			out.b = func(e *env) bool { return !eq(e) }
		}
		return out, diags
	}
	if l.typ != tNum {
		return nil, append(diags, typeErr(e.LHS.Range(), opName(e.Op), "numbers", l.typ))
	}
	if r.typ != tNum {
		return nil, append(diags, typeErr(e.RHS.Range(), opName(e.Op), "numbers", r.typ))
	}
	ln, rn := l.n, r.n
	switch e.Op {
	case hclsyntax.OpGreaterThan, hclsyntax.OpGreaterThanOrEqual, hclsyntax.OpLessThan, hclsyntax.OpLessThanOrEqual:
		out.typ = tBool
		out.b = comparison(e.Op, l, r)
		return out, diags
	}
	out.typ = tNum
	switch e.Op {
	case hclsyntax.OpAdd:
		out.n = func(e *env) float64 { return ln(e) + rn(e) }
	case hclsyntax.OpSubtract:
		out.n = func(e *env) float64 { return ln(e) - rn(e) }
	case hclsyntax.OpMultiply:
		out.n = func(e *env) float64 { return ln(e) * rn(e) }
	case hclsyntax.OpDivide:
		out.n = func(e *env) float64 {
			d := rn(e)
			if d == 0 {
				return 0
			}
			return ln(e) / d
		}
	case hclsyntax.OpModulo:
		out.n = func(e *env) float64 {
			d := rn(e)
			if d == 0 {
				return 0
			}
			return math.Mod(ln(e), d)
		}
	default:
		return nil, append(diags, errDiag(e.SrcRange, "Unsupported operator", "This operator is not supported."))
	}
	if l.isConst && r.isConst {
		return constNode(tNum, value{n: out.n(nil)}, e.SrcRange), diags
	}
	return out, diags
}

func opName(op *hclsyntax.Operation) string {
	switch op {
	case hclsyntax.OpGreaterThan:
		return ">"
	case hclsyntax.OpGreaterThanOrEqual:
		return ">="
	case hclsyntax.OpLessThan:
		return "<"
	case hclsyntax.OpLessThanOrEqual:
		return "<="
	case hclsyntax.OpAdd:
		return "+"
	case hclsyntax.OpSubtract:
		return "-"
	case hclsyntax.OpMultiply:
		return "*"
	case hclsyntax.OpDivide:
		return "/"
	case hclsyntax.OpModulo:
		return "%"
	}
	return "operator"
}

// comparison specialises the common `field > constant` shape so that the
// hot path makes one call instead of two.
func comparison(op *hclsyntax.Operation, l, r *node) func(*env) bool {
	ln, rn := l.n, r.n
	if r.isConst {
		c := r.cv.n
		switch op {
		case hclsyntax.OpGreaterThan:
			return func(e *env) bool { return ln(e) > c }
		case hclsyntax.OpGreaterThanOrEqual:
			return func(e *env) bool { return ln(e) >= c }
		case hclsyntax.OpLessThan:
			return func(e *env) bool { return ln(e) < c }
		default:
			return func(e *env) bool { return ln(e) <= c }
		}
	}
	switch op {
	case hclsyntax.OpGreaterThan:
		return func(e *env) bool { return ln(e) > rn(e) }
	case hclsyntax.OpGreaterThanOrEqual:
		return func(e *env) bool { return ln(e) >= rn(e) }
	case hclsyntax.OpLessThan:
		return func(e *env) bool { return ln(e) < rn(e) }
	default:
		return func(e *env) bool { return ln(e) <= rn(e) }
	}
}

func equality(l, r *node) func(*env) bool {
	if l.isConst && !r.isConst {
		l, r = r, l
	}
	switch l.typ {
	case tStr:
		ls, rs := l.s, r.s
		if r.isConst {
			c := r.cv.s
			return func(e *env) bool { return ls(e) == c }
		}
		return func(e *env) bool { return ls(e) == rs(e) }
	case tNum:
		ln, rn := l.n, r.n
		if r.isConst {
			c := r.cv.n
			return func(e *env) bool { return ln(e) == c }
		}
		return func(e *env) bool { return ln(e) == rn(e) }
	case tBool:
		lb, rb := l.b, r.b
		return func(e *env) bool { return lb(e) == rb(e) }
	case tTime:
		lt, rt := l.tm, r.tm
		return func(e *env) bool { return lt(e).Equal(rt(e)) }
	}
	return nil
}

func kindOperand(l, r *node) (*node, *node) {
	if l.isConst {
		l, r = r, l
	}
	if !r.isConst || r.typ != tStr || !l.isKind {
		return nil, nil
	}
	return l, r
}

func checkKindLiteral(x *exprCtx, l, r *node) *hcl.Diagnostic {
	_, c := kindOperand(l, r)
	if c == nil {
		return nil
	}
	return checkKindName(c.cv.s, c.rng)
}

func checkKindName(k string, rng hcl.Range) *hcl.Diagnostic {
	var names []string
	for _, kk := range event.Kinds {
		if string(kk) == k {
			return nil
		}
		names = append(names, string(kk))
	}
	return errDiag(rng, "Unknown event kind", fmt.Sprintf("There is no event kind %q.%s", k, suggest(k, names)))
}

func kindEquality(x *exprCtx, l, r *node) kindSet {
	_, c := kindOperand(l, r)
	if c == nil {
		return nil
	}
	return kindsOf(event.Kind(c.cv.s))
}

func (x *exprCtx) unary(e *hclsyntax.UnaryOpExpr) (*node, hcl.Diagnostics) {
	v, diags := x.compile(e.Val)
	if diags.HasErrors() {
		return nil, diags
	}
	switch e.Op {
	case hclsyntax.OpLogicalNot:
		if v.typ != tBool {
			return nil, append(diags, typeErr(e.Val.Range(), "!", "a bool", v.typ))
		}
		b := v.b
		return &node{typ: tBool, steps: v.steps, b: func(e *env) bool { return !b(e) }}, diags
	case hclsyntax.OpNegate:
		if v.typ != tNum {
			return nil, append(diags, typeErr(e.Val.Range(), "-", "a number", v.typ))
		}
		if v.isConst {
			return constNode(tNum, value{n: -v.cv.n}, e.SrcRange), diags
		}
		n := v.n
		return &node{typ: tNum, steps: v.steps, n: func(e *env) float64 { return -n(e) }}, diags
	}
	return nil, append(diags, errDiag(e.SrcRange, "Unsupported operator", "This operator is not supported."))
}

func (x *exprCtx) conditional(e *hclsyntax.ConditionalExpr) (*node, hcl.Diagnostics) {
	c, diags := x.compile(e.Condition)
	t, more := x.compile(e.TrueResult)
	diags = append(diags, more...)
	f, more := x.compile(e.FalseResult)
	diags = append(diags, more...)
	if diags.HasErrors() {
		return nil, diags
	}
	if c.typ != tBool {
		return nil, append(diags, typeErr(e.Condition.Range(), "conditional", "a bool condition", c.typ))
	}
	if t.typ != f.typ {
		return nil, append(diags, errDiag(e.SrcRange, "Type mismatch",
			fmt.Sprintf("Both results of a conditional must have one type; these are %s and %s.", t.typ, f.typ)))
	}
	cb := c.b
	out := &node{typ: t.typ, steps: c.steps || t.steps || f.steps}
	switch t.typ {
	case tBool:
		a, b := t.b, f.b
		out.b = func(e *env) bool {
			if cb(e) {
				return a(e)
			}
			return b(e)
		}
	case tNum:
		a, b := t.n, f.n
		out.n = func(e *env) float64 {
			if cb(e) {
				return a(e)
			}
			return b(e)
		}
	case tStr:
		a, b := t.s, f.s
		out.s = func(e *env) string {
			if cb(e) {
				return a(e)
			}
			return b(e)
		}
	case tList:
		a, b := t.l, f.l
		out.l = func(e *env) []string {
			if cb(e) {
				return a(e)
			}
			return b(e)
		}
	default:
		return nil, append(diags, errDiag(e.SrcRange, "Unsupported expression",
			fmt.Sprintf("Conditionals over %s values are not supported.", t.typ)))
	}
	return out, diags
}

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

// parseDuration accepts Go durations plus d (days) and w (weeks).
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		if i == 0 || j == i {
			return 0, fmt.Errorf("%q is not a duration like 90s, 15m, 8h or 7d", s)
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		mult := time.Duration(0)
		switch unit {
		case "d":
			mult = 24 * time.Hour
		case "w":
			mult = 7 * 24 * time.Hour
		}
		if mult != 0 {
			var f float64
			if _, err := fmt.Sscanf(num, "%g", &f); err != nil {
				return 0, fmt.Errorf("%q is not a duration like 90s, 15m, 8h or 7d", s)
			}
			total += time.Duration(f * float64(mult))
			continue
		}
		d, err := time.ParseDuration(num + unit)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration like 90s, 15m, 8h or 7d (unit %q)", s, unit)
		}
		total += d
	}
	return total, nil
}

func sortedStrings(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

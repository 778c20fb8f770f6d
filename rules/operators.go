package rules

import (
	"fmt"
	"math"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// typeErr reports an operand of the wrong type.
func typeErr(rng hcl.Range, op string, want string, got vtype) *hcl.Diagnostic {
	return errDiag(rng, "Type mismatch", fmt.Sprintf("The %s operator needs %s, but this is a %s.", op, want, got))
}

// binary compiles the logical, equality, comparison and arithmetic operators.
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
		if d := checkKindLiteral(l, r); d != nil {
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
			out.kinds = kindEquality(l, r)
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

// opName is how an operator is written, for messages.
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

// equality compiles ==, comparing with a constant directly when one side is
// constant; nil when the type cannot be compared.
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

// unary compiles ! and unary -.
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

// conditional compiles cond ? a : b.
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

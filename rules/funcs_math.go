package rules

import (
	"math"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// fnAbs compiles abs.
func fnAbs(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
	if a[0].typ != tNum {
		return nil, argErr(call, 0, "a number", a[0])
	}
	f := a[0].n
	return &node{typ: tNum, n: func(e *env) float64 { return math.Abs(f(e)) }}, nil
}

// fnMinMax compiles min and max.
func fnMinMax(op func(a, b float64) float64) func(*hclsyntax.FunctionCallExpr, []*node) (*node, *hcl.Diagnostic) {
	return func(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
		for i := range a {
			if a[i].typ != tNum {
				return nil, argErr(call, i, "a number", a[i])
			}
		}
		x, y := a[0].n, a[1].n
		return &node{typ: tNum, n: func(e *env) float64 { return op(x(e), y(e)) }}, nil
	}
}

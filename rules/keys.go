package rules

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// keyExpr is one named key of a by attribute.
type keyExpr struct {
	name string
	n    *node // string (one group) or list (one group per element)
}

// keys compiles `by`: a list of fields (named by their path) or an object
// of name = expression.
func (c *compiler) keys(a *hcl.Attribute, x *exprCtx, src []byte) ([]keyExpr, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var out []keyExpr
	add := func(name string, e hcl.Expression) {
		n, d := x.compile(e)
		diags = append(diags, d...)
		if n == nil {
			return
		}
		if n.steps {
			diags = append(diags, errDiag(e.Range(), "Invalid key",
				"Join keys are read from the step's own event; use the step's field (e.g. db.user), not steps.NAME."))
			return
		}
		switch n.typ {
		case tStr, tList:
		case tNum, tBool:
			n = &node{typ: tStr, s: stringer(n), rng: n.rng}
		default:
			diags = append(diags, errDiag(e.Range(), "Invalid key",
				fmt.Sprintf("A key must be a string, number, bool or list of strings, not a %s.", n.typ)))
			return
		}
		for _, k := range out {
			if k.name == name {
				diags = append(diags, errDiag(e.Range(), "Duplicate key", fmt.Sprintf("Key %q appears twice.", name)))
				return
			}
		}
		out = append(out, keyExpr{name: name, n: n})
	}
	switch e := a.Expr.(type) {
	case *hclsyntax.TupleConsExpr:
		for _, el := range e.Exprs {
			r := el.Range()
			name := string(src[r.Start.Byte:r.End.Byte])
			add(name, el)
		}
	case *hclsyntax.ObjectConsExpr:
		for _, it := range e.Items {
			name := hcl.ExprAsKeyword(it.KeyExpr)
			if name == "" {
				diags = append(diags, errDiag(it.KeyExpr.Range(), "Invalid key name", "Key names must be plain identifiers."))
				continue
			}
			add(name, it.ValueExpr)
		}
	default:
		diags = append(diags, errDiag(a.Expr.Range(), "Invalid by",
			"by must be a list of fields, like [person, host], or an object, like { customer = db.identifiers[\"customer_id\"] }."))
	}
	lists := 0
	for _, k := range out {
		if k.n.typ == tList {
			lists++
		}
	}
	if lists > 1 {
		diags = append(diags, errDiag(a.Expr.Range(), "Too many list keys",
			"At most one key may be a list (the event then counts once for each element)."))
	}
	if len(out) == 0 && !diags.HasErrors() {
		diags = append(diags, errDiag(a.Expr.Range(), "Empty by", "by needs at least one key."))
	}
	if len(out) > maxKeys {
		diags = append(diags, errDiag(a.Expr.Range(), "Too many keys", fmt.Sprintf("by takes at most %d keys.", maxKeys)))
	}
	return out, diags
}

package rules

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// exception is a compiled exception block: when it holds, its rules raise
// no alert.
type exception struct {
	name   string
	when   *node
	reason string
}

// exception compiles an exception block and attaches it to its rules.
func (c *compiler) exception(bi blockIn, set *Set, ruleNames map[string]hcl.Range) hcl.Diagnostics {
	content, diags := bi.b.Body.Content(exceptionSchema)
	if diags.HasErrors() {
		return diags
	}
	ex := &exception{name: bi.b.Labels[0]}
	x := &exprCtx{c: c}
	if a := content.Attributes["reason"]; a != nil {
		s, d := c.constString(a, "reason", x)
		diags = append(diags, d...)
		if !d.HasErrors() && strings.TrimSpace(s) == "" {
			diags = append(diags, errDiag(a.Expr.Range(), "Empty reason", "Say why the exception exists."))
		}
		ex.reason = s
	}
	if a := content.Attributes["when"]; a != nil {
		n, d := x.compileBool(a.Expr, "exception condition")
		diags = append(diags, d...)
		ex.when = n
	}
	var targets []*rule
	if a := content.Attributes["rules"]; a != nil {
		n, d := x.compile(a.Expr)
		diags = append(diags, d...)
		if n != nil && (n.typ != tList || !n.isConst || len(n.cv.l) == 0) {
			diags = append(diags, errDiag(a.Expr.Range(), "Invalid rules", "rules must be a list of rule names."))
		} else if n != nil {
			for _, name := range n.cv.l {
				if _, ok := ruleNames[name]; !ok {
					diags = append(diags, errDiag(a.Expr.Range(), "Unknown rule",
						fmt.Sprintf("There is no rule named %q.%s", name, suggest(name, sortedKeys(ruleNames)))))
					continue
				}
				if r := set.byName[name]; r != nil {
					targets = append(targets, r)
				}
			}
		}
	}
	if diags.HasErrors() {
		return diags
	}
	for _, r := range targets {
		r.exceptions = append(r.exceptions, ex)
	}
	return diags
}

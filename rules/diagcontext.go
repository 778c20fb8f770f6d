package rules

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// withContext sets the Context of each diagnostic that has a Subject but no
// Context to the smallest expression, attribute or block header of files
// that encloses the subject, so that a rendered snippet shows what the
// subject is part of.
func withContext(diags hcl.Diagnostics, files []parsedFile) {
	need := false
	for _, d := range diags {
		need = need || d.Subject != nil && d.Context == nil
	}
	if !need {
		return
	}
	var enclosing []hcl.Range
	for _, f := range files {
		body, ok := f.file.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics { // the visitor returns none
			switch n := n.(type) {
			case *hclsyntax.Attribute:
				enclosing = append(enclosing, n.SrcRange)
			case *hclsyntax.Block:
				enclosing = append(enclosing, n.DefRange())
			case hclsyntax.Expression:
				enclosing = append(enclosing, n.Range())
			}
			return nil
		})
	}
	for _, d := range diags {
		if d.Subject == nil || d.Context != nil {
			continue
		}
		var best *hcl.Range
		for i, r := range enclosing {
			if encloses(r, *d.Subject) && (best == nil || r.End.Byte-r.Start.Byte < best.End.Byte-best.Start.Byte) {
				best = &enclosing[i]
			}
		}
		if best != nil {
			ctx := *best
			d.Context = &ctx
		}
	}
}

// encloses reports whether outer holds all of inner and more.
func encloses(outer, inner hcl.Range) bool {
	return outer.Filename == inner.Filename && outer.Start.Byte <= inner.Start.Byte && inner.End.Byte <= outer.End.Byte &&
		(outer.Start.Byte < inner.Start.Byte || inner.End.Byte < outer.End.Byte)
}

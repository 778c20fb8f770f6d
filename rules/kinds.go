package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/vigilhq/vigil/event"
)

// kindSet is a set of event kinds; nil means every kind.
type kindSet map[event.Kind]bool

func kindsOf(ks ...event.Kind) kindSet {
	s := kindSet{}
	for _, k := range ks {
		s[k] = true
	}
	return s
}

func (a kindSet) intersect(b kindSet) kindSet {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	s := kindSet{}
	for k := range a {
		if b[k] {
			s[k] = true
		}
	}
	return s
}

func (a kindSet) union(b kindSet) kindSet {
	if a == nil || b == nil {
		return nil
	}
	s := kindSet{}
	for k := range a {
		s[k] = true
	}
	for k := range b {
		s[k] = true
	}
	return s
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

// checkFieldKinds rejects fields that no event the rule can match carries.
func checkFieldKinds(refs []fieldRef, kinds kindSet) hcl.Diagnostics {
	if kinds == nil {
		return nil
	}
	var diags hcl.Diagnostics
	for _, ref := range refs {
		f := fields[ref.path]
		if f.kinds == nil {
			continue
		}
		ok := false
		for _, k := range f.kinds {
			ok = ok || kinds[k]
		}
		if !ok {
			var ks []string
			for k := range kinds {
				ks = append(ks, string(k))
			}
			sort.Strings(ks)
			var fk []string
			for _, k := range f.kinds {
				fk = append(fk, string(k))
			}
			diags = append(diags, errDiag(ref.rng, "Field not on these events",
				fmt.Sprintf("%s is only set on %s events, but this condition only matches %s events.",
					ref.path, strings.Join(fk, " and "), strings.Join(ks, " and "))))
		}
	}
	return diags
}

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

// kindsOf is the set of the given kinds.
func kindsOf(ks ...event.Kind) kindSet {
	s := kindSet{}
	for _, k := range ks {
		s[k] = true
	}
	return s
}

// intersect is the kinds in both sets (nil, every kind, is the identity).
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

// union is the kinds in either set (nil if either is every kind).
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

// kindOperand returns the kind field and the constant string it is compared
// with, or nils when the comparison is not of that shape.
func kindOperand(l, r *node) (*node, *node) {
	if l.isConst {
		l, r = r, l
	}
	if !r.isConst || r.typ != tStr || !l.isKind {
		return nil, nil
	}
	return l, r
}

// checkKindLiteral rejects kind == "NAME" for a kind that does not exist.
func checkKindLiteral(l, r *node) *hcl.Diagnostic {
	_, c := kindOperand(l, r)
	if c == nil {
		return nil
	}
	return checkKindName(c.cv.s, c.rng)
}

// checkKindName rejects a name that is not an event kind.
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

// kindEquality is the kinds kind == "NAME" limits a condition to; nil for
// other comparisons.
func kindEquality(l, r *node) kindSet {
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

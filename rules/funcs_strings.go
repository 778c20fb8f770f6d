package rules

import (
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/vigilhq/vigil/event"
)

// containsSetMin is the length above which a constant list is looked up in
// a set rather than scanned (a tuning figure, for docs/benchmarks.md).
const containsSetMin = 8

// fnContains compiles contains, or icontains when fold is set.
func fnContains(fold bool) func(*hclsyntax.FunctionCallExpr, []*node) (*node, *hcl.Diagnostic) {
	eq := func(a, b string) bool { return a == b }
	has := strings.Contains
	if fold {
		eq = strings.EqualFold
		has = containsFold
	}
	return func(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
		h, n := a[0], a[1]
		switch {
		case h.typ == tStr && n.typ == tStr:
			hs, ns := h.s, n.s
			if n.isConst {
				c := n.cv.s
				return &node{typ: tBool, b: func(e *env) bool { return has(hs(e), c) }}, nil
			}
			return &node{typ: tBool, b: func(e *env) bool { return has(hs(e), ns(e)) }}, nil
		case h.typ == tList && n.typ == tStr:
			hl, ns := h.l, n.s
			out := &node{typ: tBool}
			if h.isConst && !fold && len(h.cv.l) > containsSetMin {
				set := make(map[string]struct{}, len(h.cv.l))
				for _, s := range h.cv.l {
					set[s] = struct{}{}
				}
				out.b = func(e *env) bool { _, ok := set[ns(e)]; return ok }
			} else {
				out.b = func(e *env) bool {
					s := ns(e)
					for _, x := range hl(e) {
						if eq(x, s) {
							return true
						}
					}
					return false
				}
			}
			if h.isConst && n.isKind {
				ks := kindSet{}
				for _, k := range h.cv.l {
					if d := checkKindName(k, h.rng); d != nil {
						return nil, d
					}
					ks[event.Kind(k)] = true
				}
				out.kinds = ks
			}
			return out, nil
		case h.typ == tList && n.typ == tList:
			hl, nl := h.l, n.l
			return &node{typ: tBool, b: func(e *env) bool {
				l2 := nl(e)
				for _, x := range hl(e) {
					for _, y := range l2 {
						if eq(x, y) {
							return true
						}
					}
				}
				return false
			}}, nil
		case h.typ != tList && h.typ != tStr:
			return nil, argErr(call, 0, "a list or a string", h)
		}
		return nil, argErr(call, 1, "a string", n)
	}
}

// containsFold is strings.Contains ignoring ASCII case, without allocating.
func containsFold(s, sub string) bool {
	n := len(sub)
	if n == 0 {
		return true
	}
	lo, up := sub[0], sub[0]
	if 'a' <= lo && lo <= 'z' {
		up = lo - 'a' + 'A'
	} else if 'A' <= lo && lo <= 'Z' {
		lo = lo - 'A' + 'a'
	}
	for i := 0; i+n <= len(s); i++ {
		if c := s[i]; (c == lo || c == up) && strings.EqualFold(s[i:i+n], sub) {
			return true
		}
	}
	return false
}

// stringOrList accepts a string or a list of strings as argument i.
func stringOrList(call *hclsyntax.FunctionCallExpr, a []*node, i int) (func(*env) []string, *hcl.Diagnostic) {
	n := a[i]
	switch n.typ {
	case tList:
		return n.l, nil
	case tStr:
		if n.isConst {
			l := []string{n.cv.s}
			return func(*env) []string { return l }, nil
		}
		s := n.s
		// The slice escapes through the return, so a dynamic pattern costs
		// an allocation per call.
		return func(e *env) []string { return []string{s(e)} }, nil
	}
	return nil, argErr(call, i, "a string or a list of strings", n)
}

// fnAffix compiles startswith and endswith.
func fnAffix(match func(s, affix string) bool) func(*hclsyntax.FunctionCallExpr, []*node) (*node, *hcl.Diagnostic) {
	return func(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
		if a[0].typ != tStr {
			return nil, argErr(call, 0, "a string", a[0])
		}
		s := a[0].s
		if a[1].typ == tStr && !a[1].isConst {
			p := a[1].s
			return &node{typ: tBool, b: func(e *env) bool { return match(s(e), p(e)) }}, nil
		}
		l, d := stringOrList(call, a, 1)
		if d != nil {
			return nil, d
		}
		out := &node{typ: tBool, b: func(e *env) bool {
			v := s(e)
			for _, p := range l(e) {
				if match(v, p) {
					return true
				}
			}
			return false
		}}
		if a[0].isKind && a[1].isConst {
			ks := kindSet{}
			for _, k := range event.Kinds {
				for _, p := range l(nil) {
					if match(string(k), p) {
						ks[k] = true
					}
				}
			}
			out.kinds = ks
		}
		return out, nil
	}
}

// fnRegex compiles regex, whose pattern compiles once, when rules load.
func fnRegex(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
	if a[0].typ != tStr {
		return nil, argErr(call, 0, "a string", a[0])
	}
	if a[1].typ != tStr || !a[1].isConst {
		return nil, constArgErr(call, 1, "string")
	}
	re, err := regexp.Compile(a[1].cv.s)
	if err != nil {
		return nil, errDiag(call.Args[1].Range(), "Invalid regular expression", err.Error()+".")
	}
	s := a[0].s
	return &node{typ: tBool, b: func(e *env) bool { return re.MatchString(s(e)) }}, nil
}

// fnCase compiles lower and upper, of a string or of each element of a list.
func fnCase(conv func(string) string) func(*hclsyntax.FunctionCallExpr, []*node) (*node, *hcl.Diagnostic) {
	return func(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
		switch a[0].typ {
		case tStr:
			if a[0].isConst {
				return constNode(tStr, value{s: conv(a[0].cv.s)}, call.Range()), nil
			}
			s := a[0].s
			return &node{typ: tStr, s: func(e *env) string { return conv(s(e)) }}, nil
		case tList:
			if a[0].isConst {
				l := make([]string, len(a[0].cv.l))
				for i, v := range a[0].cv.l {
					l[i] = conv(v)
				}
				return constNode(tList, value{l: l}, call.Range()), nil
			}
			ls := a[0].l
			// The event's own list comes back when no element changes, so
			// lower(db.tables) of lower-case names does not allocate.
			return &node{typ: tList, l: func(e *env) []string {
				in := ls(e)
				var out []string
				for i, v := range in {
					c := conv(v)
					if c != v && out == nil {
						out = make([]string, len(in))
						copy(out, in[:i])
					}
					if out != nil {
						out[i] = c
					}
				}
				if out == nil {
					return in
				}
				return out
			}}, nil
		}
		return nil, argErr(call, 0, "a string or a list", a[0])
	}
}

// fnLen compiles len of a string, list or map.
func fnLen(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
	n := a[0]
	switch n.typ {
	case tStr:
		s := n.s
		return &node{typ: tNum, n: func(e *env) float64 { return float64(len(s(e))) }}, nil
	case tList:
		l := n.l
		return &node{typ: tNum, n: func(e *env) float64 { return float64(len(l(e))) }}, nil
	case tMap:
		m := n.m
		return &node{typ: tNum, n: func(e *env) float64 { return float64(len(m(e))) }}, nil
	case tIdents:
		m := n.im
		return &node{typ: tNum, n: func(e *env) float64 { return float64(len(m(e))) }}, nil
	}
	return nil, argErr(call, 0, "a string, list or map", n)
}

// fnJoin compiles join, whose separator defaults to ", ".
func fnJoin(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
	if a[0].typ != tList {
		return nil, argErr(call, 0, "a list", a[0])
	}
	sep := ", "
	if len(a) == 2 {
		if a[1].typ != tStr || !a[1].isConst {
			return nil, constArgErr(call, 1, "string")
		}
		sep = a[1].cv.s
	}
	l := a[0].l
	return &node{typ: tStr, s: func(e *env) string { return strings.Join(l(e), sep) }}, nil
}

package rules

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// fnGlob compiles glob; constant patterns are classified once, when rules load.
func fnGlob(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
	if a[0].typ == tList {
		// Any element matching any pattern: glob(db.columns, ["*email*"]).
		l0 := a[0].l
		if d := checkGlobArg(call, a[1]); d != nil {
			return nil, d
		}
		pats, d := stringOrList(call, a, 1)
		if d != nil {
			return nil, d
		}
		if a[1].isConst {
			globs := compileGlobs(pats(nil))
			return &node{typ: tBool, b: func(e *env) bool {
				for _, v := range l0(e) {
					for i := range globs {
						if globs[i].match(v) {
							return true
						}
					}
				}
				return false
			}}, nil
		}
		return &node{typ: tBool, b: func(e *env) bool {
			ps := pats(e)
			for _, v := range l0(e) {
				for _, p := range ps {
					if checkGlob(p) == "" && globMatch(p, v) {
						return true
					}
				}
			}
			return false
		}}, nil
	}
	if a[0].typ != tStr {
		return nil, argErr(call, 0, "a string or a list of strings", a[0])
	}
	s := a[0].s
	if a[1].typ == tStr && !a[1].isConst {
		p := a[1].s
		return &node{typ: tBool, b: func(e *env) bool {
			pat := p(e)
			return checkGlob(pat) == "" && globMatch(pat, s(e))
		}}, nil
	}
	l, d := stringOrList(call, a, 1)
	if d != nil {
		return nil, d
	}
	if d := checkGlobArg(call, a[1]); d != nil {
		return nil, d
	}
	if a[1].isConst {
		pats := compileGlobs(l(nil))
		return &node{typ: tBool, b: func(e *env) bool {
			v := s(e)
			for i := range pats {
				if pats[i].match(v) {
					return true
				}
			}
			return false
		}}, nil
	}
	return &node{typ: tBool, b: func(e *env) bool {
		v := s(e)
		for _, p := range l(e) {
			if checkGlob(p) == "" && globMatch(p, v) {
				return true
			}
		}
		return false
	}}, nil
}

// checkGlobArg rejects constant patterns out of bounds when rules load.
func checkGlobArg(call *hclsyntax.FunctionCallExpr, n *node) *hcl.Diagnostic {
	if !n.isConst {
		return nil
	}
	pats := n.cv.l
	if n.typ == tStr {
		pats = []string{n.cv.s}
	}
	for _, p := range pats {
		if msg := checkGlob(p); msg != "" {
			return errDiag(call.Args[1].Range(), "Invalid glob pattern", msg)
		}
	}
	return nil
}

// Pattern bounds, listed in docs/rules.md; the length bound keeps matching
// in fixed memory.
const (
	maxGlobLen   = 256
	maxGlobStars = 8
)

// checkGlob says why a pattern is out of bounds, or "" when it is not.
func checkGlob(p string) string {
	if len(p) > maxGlobLen {
		return fmt.Sprintf("The pattern is longer than %d characters.", maxGlobLen)
	}
	if strings.Count(p, "*") > maxGlobStars {
		return fmt.Sprintf("The pattern %q has more than %d wildcards.", p, maxGlobStars)
	}
	return ""
}

// glob is a constant pattern, classified so the common shapes (exact,
// prefix*, *suffix, prefix**, **suffix) skip the general matcher; for the
// others, lit is the longest literal run, which a match must contain.
type glob struct {
	pat, lit string
	kind     globKind
	fix      string // the literal part of the simple shapes
}

type globKind uint8

const (
	globGeneral globKind = iota
	globExact
	globPrefix    // fix* : the rest has no /
	globPrefixAny // fix**
	globSuffix    // *fix : the start has no /
	globSuffixAny // **fix
)

// compileGlobs classifies constant patterns.
func compileGlobs(pats []string) []glob {
	out := make([]glob, len(pats))
	for i, p := range pats {
		g := &out[i]
		g.pat = p
		for _, part := range strings.FieldsFunc(p, func(r rune) bool { return r == '*' || r == '?' }) {
			if len(part) > len(g.lit) {
				g.lit = part
			}
		}
		plain := func(x string) bool { return !strings.ContainsAny(x, "*?") }
		switch {
		case plain(p):
			g.kind, g.fix = globExact, p
		case strings.HasSuffix(p, "**") && plain(strings.TrimRight(p, "*")):
			g.kind, g.fix = globPrefixAny, strings.TrimRight(p, "*")
		case strings.HasSuffix(p, "*") && plain(p[:len(p)-1]):
			g.kind, g.fix = globPrefix, p[:len(p)-1]
		case strings.HasPrefix(p, "**") && plain(strings.TrimLeft(p, "*")):
			g.kind, g.fix = globSuffixAny, strings.TrimLeft(p, "*")
		case strings.HasPrefix(p, "*") && plain(p[1:]):
			g.kind, g.fix = globSuffix, p[1:]
		}
	}
	return out
}

// match reports whether s matches the pattern, as globMatch does.
func (g *glob) match(s string) bool {
	switch g.kind {
	case globExact:
		return s == g.fix
	case globPrefix:
		return strings.HasPrefix(s, g.fix) && strings.IndexByte(s[len(g.fix):], '/') < 0
	case globPrefixAny:
		return strings.HasPrefix(s, g.fix)
	case globSuffix:
		return strings.HasSuffix(s, g.fix) && strings.IndexByte(s[:len(s)-len(g.fix)], '/') < 0
	case globSuffixAny:
		return strings.HasSuffix(s, g.fix)
	}
	return strings.Contains(s, g.lit) && globMatch(g.pat, s)
}

// globMatch matches s against a pattern where * matches any run of
// characters except /, ** matches any run including /, and ? matches one
// character except /. Everything else matches itself. It simulates the
// pattern as an automaton: time O(len(s)*len(p)) whatever the pattern, no
// allocation.
func globMatch(p, s string) bool {
	if len(p) > maxGlobLen {
		return false
	}
	if !strings.ContainsAny(p, "*?") {
		return p == s
	}
	// Tokens: a byte, '?' (any but /), '*' (run without /), or 'S' for **.
	var tok [maxGlobLen]byte
	var lit [maxGlobLen]bool
	m := 0
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '*' && i+1 < len(p) && p[i+1] == '*':
			for i+1 < len(p) && p[i+1] == '*' {
				i++
			}
			tok[m], lit[m] = 'S', false
		case p[i] == '*' || p[i] == '?':
			tok[m], lit[m] = p[i], false
		default:
			tok[m], lit[m] = p[i], true
		}
		m++
	}
	var cur, next [maxGlobLen + 1]bool
	cur[0] = true
	closeStars(&cur, &tok, &lit, m)
	for i := 0; i < len(s); i++ {
		c := s[i]
		clear(next[:m+1])
		any := false
		for st := 0; st < m; st++ {
			if !cur[st] {
				continue
			}
			switch {
			case lit[st]:
				if tok[st] == c {
					next[st+1], any = true, true
				}
			case tok[st] == '?':
				if c != '/' {
					next[st+1], any = true, true
				}
			case tok[st] == '*':
				if c != '/' {
					next[st], any = true, true
				}
			default: // **
				next[st], any = true, true
			}
		}
		if !any {
			return false
		}
		closeStars(&next, &tok, &lit, m)
		cur = next
	}
	return cur[m]
}

// closeStars lets every star match the empty string.
func closeStars(set *[maxGlobLen + 1]bool, tok *[maxGlobLen]byte, lit *[maxGlobLen]bool, m int) {
	for st := 0; st < m; st++ {
		if set[st] && !lit[st] && (tok[st] == '*' || tok[st] == 'S') {
			set[st+1] = true
		}
	}
}

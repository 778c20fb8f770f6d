package rules

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones must resolve on hosts without tzdata installed

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/vigilhq/vigil/event"
)

// function compiles a call once its arguments are compiled.
type fnDef struct {
	sig     string // for messages and docs
	nargs   []int  // accepted argument counts
	compile func(call *hclsyntax.FunctionCallExpr, args []*node) (*node, *hcl.Diagnostic)
}

var functions map[string]fnDef

func init() {
	functions = map[string]fnDef{
		"contains":     {"contains(list, string) | contains(string, substring) | contains(list, list)", []int{2}, fnContains(false)},
		"icontains":    {"icontains(list, string) | icontains(string, substring): ignoring ASCII case", []int{2}, fnContains(true)},
		"startswith":   {"startswith(string, prefix or list of prefixes)", []int{2}, fnAffix(strings.HasPrefix)},
		"endswith":     {"endswith(string, suffix or list of suffixes)", []int{2}, fnAffix(strings.HasSuffix)},
		"glob":         {"glob(string or list, pattern or list of patterns)", []int{2}, fnGlob},
		"regex":        {"regex(string, constant pattern)", []int{2}, fnRegex},
		"cidrmatch":    {"cidrmatch(ip, cidr or list of cidrs)", []int{2}, fnCIDR},
		"lower":        {"lower(string)", []int{1}, fnCase(strings.ToLower)},
		"upper":        {"upper(string)", []int{1}, fnCase(strings.ToUpper)},
		"len":          {"len(string | list | map)", []int{1}, fnLen},
		"join":         {"join(list) | join(list, separator): for summaries", []int{1, 2}, fnJoin},
		"abs":          {"abs(number)", []int{1}, fnAbs},
		"min":          {"min(number, number)", []int{2}, fnMinMax(math.Min)},
		"max":          {"max(number, number)", []int{2}, fnMinMax(math.Max)},
		"hour":         {"hour(time, timezone): hour of day as a fraction, 13.5 is 13:30", []int{2}, fnHour},
		"weekday":      {"weekday(time, timezone): Mon, Tue, ... Sun", []int{2}, fnWeekday},
		"within_hours": {"within_hours(time, start, end, timezone): start and end as \"HH:MM\" or hours; wraps past midnight", []int{4}, fnWithinHours},
	}
}

func functionNames() []string { return sortedKeys(functions) }

func (x *exprCtx) call(e *hclsyntax.FunctionCallExpr) (*node, hcl.Diagnostics) {
	fn, ok := functions[e.Name]
	if !ok {
		return nil, hcl.Diagnostics{errDiag(e.NameRange, "Unknown function",
			fmt.Sprintf("There is no function named %q.%s", e.Name, suggest(e.Name, functionNames())))}
	}
	if e.ExpandFinal {
		return nil, hcl.Diagnostics{errDiag(e.CloseParenRange, "Unsupported expansion", "Argument expansion (...) is not supported.")}
	}
	okN := false
	for _, n := range fn.nargs {
		okN = okN || n == len(e.Args)
	}
	if !okN {
		return nil, hcl.Diagnostics{errDiag(hcl.RangeBetween(e.NameRange, e.CloseParenRange), "Wrong number of arguments",
			fmt.Sprintf("%s takes %s, not %d: %s.", e.Name, plural(fn.nargs[0], "argument"), len(e.Args), fn.sig))}
	}
	var diags hcl.Diagnostics
	args := make([]*node, len(e.Args))
	for i, a := range e.Args {
		n, more := x.compile(a)
		diags = append(diags, more...)
		args[i] = n
	}
	if diags.HasErrors() {
		return nil, diags
	}
	n, d := fn.compile(e, args)
	if d != nil {
		if d.Summary == "Invalid function argument" {
			d.Detail += fmt.Sprintf(" Usage: %s.", fn.sig)
		}
		return nil, append(diags, d)
	}
	for _, a := range args {
		n.steps = n.steps || a.steps
	}
	return n, diags
}

func argErr(call *hclsyntax.FunctionCallExpr, i int, want string, got *node) *hcl.Diagnostic {
	return errDiag(call.Args[i].Range(), "Invalid function argument",
		fmt.Sprintf("Argument %d of %s must be %s, but this is a %s.", i+1, call.Name, want, got.typ))
}

func constArgErr(call *hclsyntax.FunctionCallExpr, i int, what string) *hcl.Diagnostic {
	return errDiag(call.Args[i].Range(), "Invalid function argument",
		fmt.Sprintf("Argument %d of %s must be a constant %s (a literal, var or list), known when rules load.", i+1, call.Name, what))
}

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
			if h.isConst && !fold && len(h.cv.l) > 8 {
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
		// A one-element array on the stack of the closure's caller would
		// escape through the return; a per-call slice is the honest cost
		// of a dynamic pattern.
		return func(e *env) []string { return []string{s(e)} }, nil
	}
	return nil, argErr(call, i, "a string or a list of strings", n)
}

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

const maxGlobStars = 8

func checkGlob(p string) string {
	if len(p) > maxGlobLen {
		return fmt.Sprintf("The pattern is longer than %d characters.", maxGlobLen)
	}
	if strings.Count(p, "*") > maxGlobStars {
		return fmt.Sprintf("The pattern %q has more than %d wildcards.", p, maxGlobStars)
	}
	return ""
}

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

// maxGlobLen bounds pattern length so matching runs in fixed memory.
const maxGlobLen = 256

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

func fnCIDR(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
	if a[0].typ != tStr {
		return nil, argErr(call, 0, "a string", a[0])
	}
	if !a[1].isConst || (a[1].typ != tStr && a[1].typ != tList) {
		return nil, constArgErr(call, 1, "CIDR or list of CIDRs")
	}
	list := a[1].cv.l
	if a[1].typ == tStr {
		list = []string{a[1].cv.s}
	}
	var prefixes []netip.Prefix
	for _, c := range list {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			if ip, err2 := netip.ParseAddr(c); err2 == nil {
				p = netip.PrefixFrom(ip, ip.BitLen())
			} else {
				return nil, errDiag(call.Args[1].Range(), "Invalid CIDR", fmt.Sprintf("%q is not a CIDR prefix like 10.0.0.0/8 or fd00::/8.", c))
			}
		}
		prefixes = append(prefixes, p.Masked())
	}
	s := a[0].s
	return &node{typ: tBool, b: func(e *env) bool {
		ip, err := netip.ParseAddr(s(e))
		if err != nil {
			return false
		}
		ip = ip.Unmap()
		for _, p := range prefixes {
			if p.Contains(ip) {
				return true
			}
		}
		return false
	}}, nil
}

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
			return &node{typ: tList, l: func(e *env) []string {
				in := ls(e)
				out := make([]string, len(in))
				for i, v := range in {
					out[i] = conv(v)
				}
				return out
			}}, nil
		}
		return nil, argErr(call, 0, "a string or a list", a[0])
	}
}

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

func fnAbs(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
	if a[0].typ != tNum {
		return nil, argErr(call, 0, "a number", a[0])
	}
	f := a[0].n
	return &node{typ: tNum, n: func(e *env) float64 { return math.Abs(f(e)) }}, nil
}

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

func timeArgs(call *hclsyntax.FunctionCallExpr, a []*node, tzArg int) (func(*env) time.Time, *time.Location, *hcl.Diagnostic) {
	if a[0].typ != tTime {
		return nil, nil, argErr(call, 0, "a time (such as time)", a[0])
	}
	tz := a[tzArg]
	if tz.typ != tStr || !tz.isConst {
		return nil, nil, constArgErr(call, tzArg, "time zone name")
	}
	loc, err := time.LoadLocation(tz.cv.s)
	if err != nil || tz.cv.s == "" {
		return nil, nil, errDiag(call.Args[tzArg].Range(), "Unknown time zone",
			fmt.Sprintf("%q is not a time zone name like UTC or Europe/London.", tz.cv.s))
	}
	return a[0].tm, loc, nil
}

func fnHour(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
	tm, loc, d := timeArgs(call, a, 1)
	if d != nil {
		return nil, d
	}
	return &node{typ: tNum, n: func(e *env) float64 {
		h, m, s := tm(e).In(loc).Clock()
		return float64(h) + float64(m)/60 + float64(s)/3600
	}}, nil
}

var weekdayNames = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

func fnWeekday(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
	tm, loc, d := timeArgs(call, a, 1)
	if d != nil {
		return nil, d
	}
	return &node{typ: tStr, s: func(e *env) string { return weekdayNames[tm(e).In(loc).Weekday()] }}, nil
}

// clockArg reads a time of day as hours: "08:30" or 8.5.
func clockArg(call *hclsyntax.FunctionCallExpr, a []*node, i int) (func(*env) float64, *hcl.Diagnostic) {
	n := a[i]
	switch n.typ {
	case tNum:
		return n.n, nil
	case tStr:
		if !n.isConst {
			return nil, constArgErr(call, i, "time of day")
		}
		h, err := parseClock(n.cv.s)
		if err != nil {
			return nil, errDiag(call.Args[i].Range(), "Invalid time of day", err.Error()+".")
		}
		return func(*env) float64 { return h }, nil
	}
	return nil, argErr(call, i, "a time of day like \"08:30\" or a number of hours", n)
}

func parseClock(s string) (float64, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := 0, error(nil)
	if ok {
		m, err2 = strconv.Atoi(mm)
	}
	if err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 || (ok && len(mm) != 2) {
		return 0, fmt.Errorf("%q is not a time of day like \"08:30\"", s)
	}
	return float64(h) + float64(m)/60, nil
}

func fnWithinHours(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
	tm, loc, d := timeArgs(call, a, 3)
	if d != nil {
		return nil, d
	}
	start, d := clockArg(call, a, 1)
	if d != nil {
		return nil, d
	}
	end, d := clockArg(call, a, 2)
	if d != nil {
		return nil, d
	}
	return &node{typ: tBool, b: func(e *env) bool {
		h, m, s := tm(e).In(loc).Clock()
		x := float64(h) + float64(m)/60 + float64(s)/3600
		st, en := start(e), end(e)
		if st <= en {
			return x >= st && x < en
		}
		return x >= st || x < en // a shift that runs past midnight
	}}, nil
}

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

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

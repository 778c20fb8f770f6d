package rules

import (
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/vigilhq/vigil/event"
)

// vtype is the static type of a compiled expression. Types are checked when
// a rule set loads, so evaluation never meets a type it did not expect.
type vtype uint8

const (
	tInvalid vtype = iota
	tBool
	tNum
	tStr
	tList   // list of strings
	tTime   // a point in time
	tMap    // map of string to string (labels, alert.group)
	tIdents // map of string to list of strings (db.identifiers)
)

func (t vtype) String() string {
	switch t {
	case tBool:
		return "bool"
	case tNum:
		return "number"
	case tStr:
		return "string"
	case tList:
		return "list of strings"
	case tTime:
		return "time"
	case tMap:
		return "map of strings"
	case tIdents:
		return "map of string lists"
	}
	return "invalid"
}

// env is what a compiled expression reads: the event under evaluation and,
// for sequence steps and alert summaries, what came before. An Engine owns
// one env and reuses it for every event, so evaluation does not allocate.
type env struct {
	ev *event.Event
	t  time.Time // event time, or the engine's clock when the event has none
	// captured holds, per sequence step, the values later steps refer to as
	// steps.NAME.FIELD.
	captured [][]value
	// Only set while rendering an alert summary.
	value    float64
	baseline float64
	group    map[string]string
	rule     string
	// memo holds each condition's result for the event numbered gen.
	memo []memoEntry
	gen  uint64
}

// value is a captured evaluation result of any type.
type value struct {
	b  bool
	n  float64
	s  string
	l  []string
	tm time.Time
	m  map[string]string
	im map[string][]string
}

// node is one compiled expression. Exactly the function matching typ is set.
// Constant nodes (literals, variables, lists and anything computed only from
// them) also carry their value so that functions can check and prepare
// arguments such as regular expressions and CIDR prefixes once, at load time.
type node struct {
	typ vtype
	b   func(*env) bool
	n   func(*env) float64
	s   func(*env) string
	l   func(*env) []string
	tm  func(*env) time.Time
	m   func(*env) map[string]string
	im  func(*env) map[string][]string

	isConst bool
	cv      value

	rng hcl.Range
	// kinds is, for bool nodes, the event kinds for which the node can be
	// true; nil means any kind.
	kinds kindSet
	// steps is set when the node reads an earlier sequence step.
	steps bool
	// isKind marks the `kind` field, for kind indexing.
	isKind bool
}

func (n *node) eval(e *env) value {
	switch n.typ {
	case tBool:
		return value{b: n.b(e)}
	case tNum:
		return value{n: n.n(e)}
	case tStr:
		return value{s: n.s(e)}
	case tList:
		return value{l: n.l(e)}
	case tTime:
		return value{tm: n.tm(e)}
	case tMap:
		return value{m: n.m(e)}
	case tIdents:
		return value{im: n.im(e)}
	}
	return value{}
}

// constNode makes a node that always yields v.
func constNode(t vtype, v value, rng hcl.Range) *node {
	n := &node{typ: t, isConst: true, cv: v, rng: rng}
	switch t {
	case tBool:
		b := v.b
		n.b = func(*env) bool { return b }
	case tNum:
		f := v.n
		n.n = func(*env) float64 { return f }
	case tStr:
		s := v.s
		n.s = func(*env) string { return s }
	case tList:
		l := v.l
		n.l = func(*env) []string { return l }
	case tTime:
		tm := v.tm
		n.tm = func(*env) time.Time { return tm }
	case tMap:
		m := v.m
		n.m = func(*env) map[string]string { return m }
	case tIdents:
		m := v.im
		n.im = func(*env) map[string][]string { return m }
	}
	return n
}

// valueNode makes a node reading a captured value (see sequence steps).
func valueNode(t vtype, get func(*env) *value, rng hcl.Range) *node {
	n := &node{typ: t, rng: rng, steps: true}
	switch t {
	case tBool:
		n.b = func(e *env) bool { return get(e).b }
	case tNum:
		n.n = func(e *env) float64 { return get(e).n }
	case tStr:
		n.s = func(e *env) string { return get(e).s }
	case tList:
		n.l = func(e *env) []string { return get(e).l }
	case tTime:
		n.tm = func(e *env) time.Time { return get(e).tm }
	case tMap:
		n.m = func(e *env) map[string]string { return get(e).m }
	case tIdents:
		n.im = func(e *env) map[string][]string { return get(e).im }
	}
	return n
}

// formatValue renders a value for alert summaries and group keys.
func formatValue(t vtype, v value) string {
	switch t {
	case tBool:
		return strconv.FormatBool(v.b)
	case tNum:
		return formatNum(v.n)
	case tStr:
		return v.s
	case tList:
		return strings.Join(v.l, ",")
	case tTime:
		if v.tm.IsZero() {
			return ""
		}
		return v.tm.UTC().Format(time.RFC3339)
	case tMap:
		var b strings.Builder
		for i, k := range sortedKeys(v.m) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(k + "=" + v.m[k])
		}
		return b.String()
	case tIdents:
		var b strings.Builder
		for i, k := range sortedKeys(v.im) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(k + "=" + strings.Join(v.im[k], "|"))
		}
		return b.String()
	}
	return ""
}

func formatNum(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

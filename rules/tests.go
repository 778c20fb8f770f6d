package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/vigilhq/vigil/event"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// A test block feeds events through the set and checks the alerts:
//
//	test "pg_dump is flagged" {
//	  defaults = { process = { login_user = "alice" } }
//	  events = [
//	    { kind = "process.exec", process = { comm = "pg_dump" } },
//	  ]
//	  expect "db_dump_tool" { count = 1 }
//	}
type testCase struct {
	name    string
	rng     hcl.Range
	events  []event.Event
	vars    map[string]cty.Value
	expects []expectation
}

type expectation struct {
	rule     string
	count    int
	value    *float64
	group    map[string]string
	severity string
	summary  string
	rng      hcl.Range
}

// DefaultTestStart is when a test's first event happens unless the test
// sets start: a Monday, 09:00 UTC.
var DefaultTestStart = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// testFuncs are available in test blocks to build event lists.
var testFuncs = map[string]function.Function{
	"range": boundedRange, "concat": stdlib.ConcatFunc, "flatten": stdlib.FlattenFunc,
	"format": stdlib.FormatFunc, "merge": stdlib.MergeFunc, "join": stdlib.JoinFunc,
	"lower": stdlib.LowerFunc, "upper": stdlib.UpperFunc, "tostring": stdlib.MakeToFunc(cty.String),
}

func (c *compiler) test(bi blockIn, ruleNames map[string]hcl.Range) (*testCase, hcl.Diagnostics) {
	content, diags := bi.b.Body.Content(testSchema)
	if diags.HasErrors() {
		return nil, diags
	}
	tc := &testCase{name: bi.b.Labels[0], rng: bi.b.DefRange}
	ctx := &hcl.EvalContext{Functions: testFuncs}
	start := DefaultTestStart
	if a := content.Attributes["start"]; a != nil {
		v, d := a.Expr.Value(ctx)
		diags = append(diags, d...)
		if !d.HasErrors() {
			t, err := time.Parse(time.RFC3339, ctyString(v))
			if err != nil {
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid start", "start must be an RFC 3339 time like 2026-01-05T09:00:00Z."))
			}
			start = t
		}
	}
	if a := content.Attributes["vars"]; a != nil {
		v, d := a.Expr.Value(ctx)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if !v.Type().IsObjectType() && !v.Type().IsMapType() {
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid vars", "vars must be an object of variable values."))
			} else {
				tc.vars = map[string]cty.Value{}
				for it := v.ElementIterator(); it.Next(); {
					k, ev := it.Element()
					name := k.AsString()
					vr, ok := c.vars[name]
					if !ok {
						diags = append(diags, errDiag(a.Expr.Range(), "Unknown variable",
							fmt.Sprintf("There is no variable named %q.%s", name, suggest(name, sortedKeys(c.vars)))))
						continue
					}
					t, _, msg := ctyToValue(ev)
					if msg != "" || t != vr.typ {
						diags = append(diags, errDiag(a.Expr.Range(), "Type mismatch",
							fmt.Sprintf("Variable %q is a %s; the test gives a %s.", name, vr.typ, t)))
						continue
					}
					tc.vars[name] = ev
				}
			}
		}
	}
	var defaults map[string]any
	if a := content.Attributes["defaults"]; a != nil {
		v, d := a.Expr.Value(ctx)
		diags = append(diags, d...)
		if !d.HasErrors() {
			m, err := ctyToJSONMap(v)
			if err == nil {
				err = checkEventKeys(m, reflect.TypeOf(event.Event{}), "defaults")
			}
			if err != nil {
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid defaults", err.Error()))
			}
			defaults = m
		}
	}
	if a := content.Attributes["events"]; a != nil {
		evs, d := decodeTestEvents(a.Expr, ctx, defaults, start)
		diags = append(diags, d...)
		tc.events = evs
	}
	for _, b := range content.Blocks {
		ex := expectation{rule: b.Labels[0], count: 1, rng: b.DefRange}
		if _, ok := ruleNames[ex.rule]; !ok {
			diags = append(diags, errDiag(b.LabelRanges[0], "Unknown rule",
				fmt.Sprintf("There is no rule named %q.%s", ex.rule, suggest(ex.rule, sortedKeys(ruleNames)))))
		}
		ec, d := b.Body.Content(expectSchema)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		if a := ec.Attributes["count"]; a != nil {
			v, d := a.Expr.Value(ctx)
			diags = append(diags, d...)
			if !d.HasErrors() {
				if v.Type() != cty.Number || !v.IsKnown() || v.IsNull() {
					diags = append(diags, errDiag(a.Expr.Range(), "Invalid count", "count must be a number."))
				} else {
					f, _ := v.AsBigFloat().Int64()
					ex.count = int(f)
				}
			}
		}
		if a := ec.Attributes["value"]; a != nil {
			v, d := a.Expr.Value(ctx)
			diags = append(diags, d...)
			if !d.HasErrors() {
				if v.Type() != cty.Number || v.IsNull() {
					diags = append(diags, errDiag(a.Expr.Range(), "Invalid value", "value must be a number."))
				} else {
					f, _ := v.AsBigFloat().Float64()
					ex.value = &f
				}
			}
		}
		if a := ec.Attributes["group"]; a != nil {
			v, d := a.Expr.Value(ctx)
			diags = append(diags, d...)
			if !d.HasErrors() {
				t, val, msg := ctyToValue(v)
				if msg != "" || t != tMap {
					diags = append(diags, errDiag(a.Expr.Range(), "Invalid group", "group must be an object of strings."))
				}
				ex.group = val.m
			}
		}
		if a := ec.Attributes["severity"]; a != nil {
			v, d := a.Expr.Value(ctx)
			diags = append(diags, d...)
			ex.severity = ctyString(v)
		}
		if a := ec.Attributes["summary"]; a != nil {
			v, d := a.Expr.Value(ctx)
			diags = append(diags, d...)
			if !d.HasErrors() && (v.IsNull() || v.Type() != cty.String) {
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid summary", "summary must be a string: the exact text of one alert's summary."))
			}
			ex.summary = ctyString(v)
		}
		tc.expects = append(tc.expects, ex)
	}
	if len(tc.expects) == 0 && !diags.HasErrors() {
		diags = append(diags, errDiag(bi.b.DefRange, "Test expects nothing",
			"Add expect \"RULE\" { count = N } blocks; count = 0 checks that a rule does not fire."))
	}
	return tc, diags
}

func ctyString(v cty.Value) string {
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

func ctyToJSONMap(v cty.Value) (map[string]any, error) {
	var m map[string]any
	if err := ctyToJSON(v, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("expected an object")
	}
	return m, nil
}

func ctyToJSON(v cty.Value, out any) error {
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return fmt.Errorf("encoding the value as JSON: %w", err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(out); err != nil {
		return fmt.Errorf("expected an object: %w", err)
	}
	return nil
}

func decodeTestEvents(expr hcl.Expression, ctx *hcl.EvalContext, defaults map[string]any, start time.Time) ([]event.Event, hcl.Diagnostics) {
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	var list []any
	if err := ctyToJSON(v, &list); err != nil || (!v.Type().IsTupleType() && !v.Type().IsListType()) {
		return nil, append(diags, errDiag(expr.Range(), "Invalid events", "events must be a list of event objects."))
	}
	var out []event.Event
	last := start.Add(-time.Second)
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, append(diags, errDiag(expr.Range(), "Invalid events", fmt.Sprintf("Event %d is not an object.", i+1)))
		}
		m = mergeJSON(defaults, m)
		var offset string
		if o, ok := m["offset"]; ok {
			offset, _ = o.(string)
			delete(m, "offset")
		}
		if err := checkEventKeys(m, reflect.TypeOf(event.Event{}), "event"); err != nil {
			return nil, append(diags, errDiag(expr.Range(), "Invalid test event", fmt.Sprintf("Event %d: %s", i+1, err)))
		}
		if _, ok := m["id"]; !ok {
			m["id"] = fmt.Sprintf("e%d", i+1)
		}
		for k, def := range map[string]string{"site": "site-1", "host": "ws-1"} {
			if _, ok := m[k]; !ok {
				m[k] = def
			}
		}
		b, _ := json.Marshal(m)
		var ev event.Event
		if err := json.Unmarshal(b, &ev); err != nil {
			return nil, append(diags, errDiag(expr.Range(), "Invalid test event", fmt.Sprintf("Event %d: %s.", i+1, err)))
		}
		switch {
		case !ev.Time.IsZero():
		case offset != "":
			d, err := parseDuration(offset)
			if err != nil {
				return nil, append(diags, errDiag(expr.Range(), "Invalid test event", fmt.Sprintf("Event %d: offset: %s.", i+1, err)))
			}
			ev.Time = start.Add(d)
		default:
			ev.Time = last.Add(time.Second)
		}
		last = ev.Time
		if ev.Kind == "" {
			return nil, append(diags, errDiag(expr.Range(), "Invalid test event", fmt.Sprintf("Event %d has no kind.", i+1)))
		}
		if d := checkKindName(string(ev.Kind), expr.Range()); d != nil {
			d.Detail = fmt.Sprintf("Event %d: %s", i+1, d.Detail)
			return nil, append(diags, d)
		}
		out = append(out, ev)
	}
	return out, diags
}

// mergeJSON overlays b on a, recursing into objects.
func mergeJSON(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = mergeJSON(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// checkEventKeys rejects keys that are not JSON fields of the event schema,
// suggesting the closest.
func checkEventKeys(m map[string]any, t reflect.Type, path string) error {
	known := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			known[name] = f.Type
		}
	}
	if path == "event" || path == "defaults" {
		known["offset"] = reflect.TypeOf("")
	}
	for _, k := range sortedKeys(m) {
		ft, ok := known[k]
		if !ok {
			return fmt.Errorf("%s has no field %q.%s", path, k, suggest(k, sortedKeys(known)))
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if sub, ok := m[k].(map[string]any); ok && ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}) {
			if err := checkEventKeys(sub, ft, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestResult is the outcome of one test block.
type TestResult struct {
	Name     string   `json:"name"`
	Pos      string   `json:"pos"` // file:line
	Passed   bool     `json:"passed"`
	Failures []string `json:"failures,omitempty"`
}

// RunTests runs the set's test blocks. Each test gets fresh engines: the
// events go through the host rules, and the events and host alerts through
// the global rules, as agent and collector would do.
func (s *Set) RunTests() []TestResult {
	var out []TestResult
	for _, tc := range s.tests {
		res := TestResult{Name: tc.name, Pos: fmt.Sprintf("%s:%d", tc.rng.Filename, tc.rng.Start.Line)}
		set := s
		if len(tc.vars) > 0 {
			var diags hcl.Diagnostics
			set, diags = compile(s.files, tc.vars)
			if diags.HasErrors() {
				res.Failures = append(res.Failures, "recompiling with the test's vars: "+diags.Error())
				out = append(out, res)
				continue
			}
		}
		alerts := set.runEvents(tc.events)
		res.Failures = checkExpectations(tc, alerts)
		res.Passed = len(res.Failures) == 0
		out = append(out, res)
	}
	return out
}

func (s *Set) runEvents(evs []event.Event) []event.Event {
	n := 0
	newAlert := func(a *event.Event) {
		n++
		a.ID = fmt.Sprintf("alert-%d", n)
	}
	host := NewEngine(s, Options{Scope: ScopeHost, NewAlert: newAlert})
	global := NewEngine(s, Options{Scope: ScopeGlobal, NewAlert: newAlert})
	var all []event.Event
	for i := range evs {
		ha := host.Process(&evs[i])
		all = append(all, ha...)
		all = append(all, global.Process(&evs[i])...)
		for j := range ha {
			all = append(all, global.Process(&ha[j])...)
		}
	}
	return all
}

func checkExpectations(tc *testCase, alerts []event.Event) []string {
	var fails []string
	byRule := map[string][]event.Event{}
	for _, a := range alerts {
		byRule[a.Alert.Rule] = append(byRule[a.Alert.Rule], a)
	}
	for _, ex := range tc.expects {
		got := byRule[ex.rule]
		if len(got) != ex.count {
			msg := fmt.Sprintf("rule %s: expected %d alert(s), got %d", ex.rule, ex.count, len(got))
			if len(alerts) > 0 {
				msg += "; alerts raised: " + describeAlerts(alerts)
			} else {
				msg += "; no rule fired"
			}
			fails = append(fails, msg)
			continue
		}
		if len(got) == 0 {
			continue
		}
		if ex.value != nil && !anyAlert(got, func(a *event.Alert) bool { return a.Value == *ex.value }) {
			fails = append(fails, fmt.Sprintf("rule %s: expected value %s, got %s", ex.rule, formatNum(*ex.value), describeAlerts(got)))
		}
		if ex.group != nil && !anyAlert(got, func(a *event.Alert) bool { return reflect.DeepEqual(a.Group, ex.group) }) {
			fails = append(fails, fmt.Sprintf("rule %s: expected group {%s}, got %s", ex.rule,
				strings.Join(sortedStrings(ex.group), " "), describeAlerts(got)))
		}
		if ex.severity != "" && !anyAlert(got, func(a *event.Alert) bool { return a.Severity == ex.severity }) {
			fails = append(fails, fmt.Sprintf("rule %s: expected severity %s, got %s", ex.rule, ex.severity, describeAlerts(got)))
		}
		if ex.summary != "" && !anyAlert(got, func(a *event.Alert) bool { return a.Summary == ex.summary }) {
			var sums []string
			for _, a := range got {
				sums = append(sums, fmt.Sprintf("%q", a.Alert.Summary))
			}
			fails = append(fails, fmt.Sprintf("rule %s: expected summary %q, got [%s]", ex.rule, ex.summary, strings.Join(sums, ", ")))
		}
	}
	return fails
}

func anyAlert(as []event.Event, f func(*event.Alert) bool) bool {
	for _, a := range as {
		if f(a.Alert) {
			return true
		}
	}
	return false
}

func describeAlerts(as []event.Event) string {
	var parts []string
	for _, a := range as {
		s := a.Alert.Rule
		var attrs []string
		if a.Alert.Value != 0 {
			attrs = append(attrs, "value="+formatNum(a.Alert.Value))
		}
		if len(a.Alert.Group) > 0 {
			attrs = append(attrs, "group={"+strings.Join(sortedStrings(a.Alert.Group), " ")+"}")
		}
		attrs = append(attrs, "evidence="+strings.Join(a.Alert.Evidence, ","))
		parts = append(parts, s+"("+strings.Join(attrs, " ")+")")
	}
	return strings.Join(parts, ", ")
}

// Untested lists the rules that no test block expects to fire.
func (s *Set) Untested() []string {
	covered := map[string]bool{}
	for _, tc := range s.tests {
		for _, ex := range tc.expects {
			if ex.count > 0 {
				covered[ex.rule] = true
			}
		}
	}
	var out []string
	for _, r := range s.rules {
		if !covered[r.name] {
			out = append(out, r.name)
		}
	}
	sort.Strings(out)
	return out
}

// TestCount is the number of test blocks in the set.
func (s *Set) TestCount() int { return len(s.tests) }

// maxTestEvents bounds range() in test blocks: rule files load in the
// agent, and a test must not be able to exhaust its memory.
const maxTestEvents = 10000

// boundedRange is range(n), range(start, end) or range(start, end, step)
// with at most maxTestEvents elements.
var boundedRange = function.New(&function.Spec{
	VarParam: &function.Parameter{Name: "params", Type: cty.Number},
	Type:     function.StaticReturnType(cty.List(cty.Number)),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		var f [3]float64
		for i, a := range args {
			if i > 2 || a.IsNull() || !a.IsKnown() {
				return cty.NilVal, fmt.Errorf("range takes one to three numbers")
			}
			f[i], _ = a.AsBigFloat().Float64()
		}
		start, end, step := 0.0, f[0], 1.0
		switch len(args) {
		case 0:
			return cty.NilVal, fmt.Errorf("range takes one to three numbers")
		case 2:
			start, end = f[0], f[1]
		case 3:
			start, end, step = f[0], f[1], f[2]
		}
		if step == 0 || (end-start)/step > maxTestEvents {
			return cty.NilVal, fmt.Errorf("range would make more than %d elements", maxTestEvents)
		}
		var out []cty.Value
		for x := start; (step > 0 && x < end) || (step < 0 && x > end); x += step {
			out = append(out, cty.NumberFloatVal(x))
		}
		if len(out) == 0 {
			return cty.ListValEmpty(cty.Number), nil
		}
		return cty.ListVal(out), nil
	},
})

func sortedStrings(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

package rules

import (
	"fmt"
	"math"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// fnDef is a function rules may call: its usage, the argument counts it
// takes, and how it compiles a call whose arguments are compiled.
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
		"clock":        {"clock(time, timezone): time of day as \"HH:MM\"", []int{2}, fnClock},
		"bytes":        {"bytes(number): a byte count as text, such as \"3.6 MiB\"", []int{1}, fnNumberFormat(formatBytes)},
		"duration":     {"duration(seconds): a duration as text, such as \"12h 40m\"", []int{1}, fnNumberFormat(formatDuration)},
		"number":       {"number(number): a count as text with thousands separators, such as \"40,000\"", []int{1}, fnNumberFormat(formatNumber)},
	}
}

// functionNames lists the functions, sorted.
func functionNames() []string { return sortedKeys(functions) }

// call compiles a function call: its arguments first, then the function.
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

// argErr reports argument i of the wrong type.
func argErr(call *hclsyntax.FunctionCallExpr, i int, want string, got *node) *hcl.Diagnostic {
	return errDiag(call.Args[i].Range(), "Invalid function argument",
		fmt.Sprintf("Argument %d of %s must be %s, but this is a %s.", i+1, call.Name, want, got.typ))
}

// constArgErr reports argument i that must be known when rules load.
func constArgErr(call *hclsyntax.FunctionCallExpr, i int, what string) *hcl.Diagnostic {
	return errDiag(call.Args[i].Range(), "Invalid function argument",
		fmt.Sprintf("Argument %d of %s must be a constant %s (a literal, var or list), known when rules load.", i+1, call.Name, what))
}

// plural writes n and word, adding s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

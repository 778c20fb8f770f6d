package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/vigilhq/vigil/event"
	"github.com/zclconf/go-cty/cty"
)

// Scopes. Host rules run in the agent over one host's events; global rules
// run in the collector over every site's events and the host alerts.
const (
	ScopeHost   = "host"
	ScopeGlobal = "global"
)

// Source is one rule file's name and content.
type Source struct {
	Name string
	Data []byte
}

// Set is a compiled, immutable rule set. Load it with LoadDir, LoadFiles or
// Load; a set is only returned when its files have no errors.
type Set struct {
	rules  []*rule
	byName map[string]*rule
	hash   string
	tests  []*testCase
	// Kept so tests that override variables can recompile.
	files   []parsedFile
	varDefs map[string]*variable
}

// Hash is a stable hash of the rule sources (file base names and contents),
// for reporting which rule set an agent runs; "" for a nil set.
func (s *Set) Hash() string {
	if s == nil {
		return ""
	}
	return s.hash
}

// Names lists every rule's name, sorted (none for a nil set).
func (s *Set) Names() []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s.rules))
	for _, r := range s.rules {
		out = append(out, r.name)
	}
	sort.Strings(out)
	return out
}

// RuleInfo describes one rule of a set.
type RuleInfo struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"` // rule, threshold or sequence
	Scope    string   `json:"scope"`
	Severity string   `json:"severity"`
	Tags     []string `json:"tags,omitempty"`
	Pos      string   `json:"pos"` // file:line
}

// Rules describes the set's rules in name order.
func (s *Set) Rules() []RuleInfo {
	var out []RuleInfo
	for _, n := range s.Names() {
		r := s.byName[n]
		out = append(out, RuleInfo{Name: r.name, Type: r.typ.String(), Scope: r.scope, Severity: r.severity,
			Tags: slices.Clone(r.tags), Pos: fmt.Sprintf("%s:%d", r.rng.Filename, r.rng.Start.Line)})
	}
	return out
}

type ruleType uint8

const (
	typeMatch ruleType = iota
	typeThreshold
	typeSequence
)

func (t ruleType) String() string {
	return [...]string{"rule", "threshold", "sequence"}[t]
}

type aggKind uint8

const (
	aggCount aggKind = iota
	aggSum
	aggDistinct
)

// rule is one compiled rule, threshold or sequence.
type rule struct {
	name        string
	typ         ruleType
	scope       string
	severity    string
	description string
	tags        []string
	summary     *node
	when        *node // match and threshold
	kinds       kindSet
	exceptions  []*exception
	by          []keyExpr
	rng         hcl.Range

	// threshold
	agg        aggKind
	aggExpr    *node
	window     time.Duration
	limit      float64
	baseline   time.Duration
	factor     float64
	minHistory time.Duration
	cooldown   time.Duration

	// sequence
	steps []*step

	// fingerprint changes whenever anything that shapes the rule's window
	// state does; Engine.Swap keeps state across equal fingerprints.
	fingerprint string
}

type keyExpr struct {
	name string
	n    *node // string (one group) or list (one group per element)
}

type step struct {
	name string
	pre  *node // conditions on the event alone
	post *node // conditions reading earlier steps; may be nil
	by   []keyExpr
	// captures are the fields later steps and the summary read from this
	// step's event, evaluated when the step matches.
	captures   []*node
	captureIdx map[string]int
	kinds      kindSet
}

func (s *step) capture(key string, n *node) int {
	if i, ok := s.captureIdx[key]; ok {
		return i
	}
	if s.captureIdx == nil {
		s.captureIdx = map[string]int{}
	}
	s.captures = append(s.captures, n)
	s.captureIdx[key] = len(s.captures) - 1
	return len(s.captures) - 1
}

type exception struct {
	name   string
	when   *node
	reason string
}

type variable struct {
	name string
	typ  vtype
	val  value
	used bool
	rng  hcl.Range
	set  *hcl.Range // where a values block set it
}

type namedList struct {
	name  string
	items []string
	used  bool
	rng   hcl.Range
}

type condDef struct {
	name      string
	expr      hcl.Expression
	src       string
	rng       hcl.Range
	state     int // 0 new, 1 compiling, 2 done
	node      *node
	deps      map[string]string
	fieldRefs []fieldRef
	used      bool
}

type parsedFile struct {
	name string
	data []byte
	file *hcl.File
}

// compiler holds the names a rule set declares while it is compiled.
type compiler struct {
	files     map[string][]byte
	vars      map[string]*variable
	lists     map[string]*namedList
	conds     map[string]*condDef
	overrides map[string]cty.Value
}

func (c *compiler) condition(cd *condDef, ref hcl.Range) (*node, hcl.Diagnostics) {
	switch cd.state {
	case 1:
		return nil, hcl.Diagnostics{errDiag(ref, "Condition refers to itself",
			fmt.Sprintf("Condition %q is part of a cycle of conditions referring to each other.", cd.name))}
	case 2:
		if cd.node == nil {
			return nil, nil // its own errors were reported where it is defined
		}
		cp := *cd.node
		return &cp, nil
	}
	cd.state = 1
	x := &exprCtx{c: c}
	n, diags := x.compileBool(cd.expr, "condition")
	cd.state = 2
	cd.node, cd.deps, cd.fieldRefs = n, x.deps, x.fieldRefs
	if n == nil {
		return nil, diags
	}
	cp := *n
	return &cp, diags
}

var fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "rule", LabelNames: []string{"name"}},
	{Type: "threshold", LabelNames: []string{"name"}},
	{Type: "sequence", LabelNames: []string{"name"}},
	{Type: "exception", LabelNames: []string{"name"}},
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "values"},
	{Type: "list", LabelNames: []string{"name"}},
	{Type: "condition", LabelNames: []string{"name"}},
	{Type: "test", LabelNames: []string{"name"}},
}}

var commonAttrs = []hcl.AttributeSchema{
	{Name: "scope"}, {Name: "severity", Required: true}, {Name: "description"}, {Name: "tags"}, {Name: "summary"},
}

var (
	ruleSchema = &hcl.BodySchema{Attributes: append([]hcl.AttributeSchema{
		{Name: "when", Required: true}, {Name: "by"}}, commonAttrs...)}
	thresholdSchema = &hcl.BodySchema{Attributes: append([]hcl.AttributeSchema{
		{Name: "when", Required: true}, {Name: "by"}, {Name: "window", Required: true}, {Name: "limit", Required: true},
		{Name: "count"}, {Name: "sum"}, {Name: "distinct"}, {Name: "baseline"}, {Name: "factor"}, {Name: "min_history"}, {Name: "cooldown"},
	}, commonAttrs...)}
	sequenceSchema = &hcl.BodySchema{
		Attributes: append([]hcl.AttributeSchema{{Name: "by", Required: true}, {Name: "window", Required: true}}, commonAttrs...),
		Blocks:     []hcl.BlockHeaderSchema{{Type: "step", LabelNames: []string{"name"}}},
	}
	stepSchema      = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "when", Required: true}, {Name: "by"}}}
	exceptionSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "rules", Required: true}, {Name: "when", Required: true}, {Name: "reason", Required: true}}}
	variableSchema  = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "default", Required: true}, {Name: "description"}}}
	listSchema      = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "items", Required: true}, {Name: "description"}}}
	conditionSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "when", Required: true}, {Name: "description"}}}
)

// LoadDir loads every *.hcl file in dir (see Files), in name order.
func LoadDir(dir string) (*Set, hcl.Diagnostics) {
	paths, err := Files(dir)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read rule directory", Detail: err.Error()}}
	}
	return LoadFiles(paths...)
}

// Files lists the rule files of dir: *.hcl, sorted, not in subdirectories,
// skipping hidden files (editor locks and backups such as .#rules.hcl).
func Files(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".hcl") {
			continue
		}
		out = append(out, filepath.Join(dir, name))
	}
	sort.Strings(out)
	return out, nil
}

// LoadFiles loads and compiles rule files. Any error diagnostic means a nil
// Set: a rule set is applied whole or not at all. Warnings come with a Set.
func LoadFiles(paths ...string) (*Set, hcl.Diagnostics) {
	var srcs []Source
	var diags hcl.Diagnostics
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read rule file",
				Detail: fmt.Sprintf("Reading %s: %s.", p, err)})
			continue
		}
		srcs = append(srcs, Source{Name: p, Data: data})
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return Load(srcs...)
}

// Load compiles rule files given as names and contents.
func Load(srcs ...Source) (*Set, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var files []parsedFile
	seen := map[string]bool{}
	for _, s := range srcs {
		if seen[s.Name] {
			continue
		}
		seen[s.Name] = true
		f, d := hclsyntax.ParseConfig(s.Data, s.Name, hcl.InitialPos)
		diags = append(diags, d...)
		files = append(files, parsedFile{name: s.Name, data: s.Data, file: f})
	}
	// Stop before evaluating anything when the syntax is broken.
	if diags.HasErrors() {
		return nil, diags
	}
	set, more := compile(files, nil)
	diags = append(diags, more...)
	if diags.HasErrors() {
		return nil, diags
	}
	if len(srcs) == 0 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "No rule files",
			Detail: "The rule set is empty."})
	}
	return set, diags
}

func sourceHash(files []parsedFile) string {
	type nf struct {
		name string
		data []byte
	}
	var l []nf
	for _, f := range files {
		l = append(l, nf{filepath.Base(f.name), f.data})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].name < l[j].name })
	h := sha256.New()
	for _, f := range l {
		fmt.Fprintf(h, "%s\x00%d\x00", f.name, len(f.data))
		h.Write(f.data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

type blockIn struct {
	b    *hcl.Block
	file parsedFile
}

func (b blockIn) src() string {
	r := b.b.DefRange
	if body, ok := b.b.Body.(*hclsyntax.Body); ok {
		r = hcl.RangeBetween(b.b.DefRange, body.SrcRange)
	}
	if r.End.Byte <= len(b.file.data) && r.Start.Byte <= r.End.Byte {
		return string(b.file.data[r.Start.Byte:r.End.Byte])
	}
	return ""
}

// compile builds a Set from parsed files. overrides replace variable values
// (used by test blocks).
func compile(files []parsedFile, overrides map[string]cty.Value) (*Set, hcl.Diagnostics) {
	c := &compiler{
		files: map[string][]byte{}, vars: map[string]*variable{}, lists: map[string]*namedList{},
		conds: map[string]*condDef{}, overrides: overrides,
	}
	var diags hcl.Diagnostics
	byType := map[string][]blockIn{}
	for _, f := range files {
		c.files[f.name] = f.data
		content, d := f.file.Body.Content(fileSchema)
		diags = append(diags, d...)
		for _, b := range content.Blocks {
			byType[b.Type] = append(byType[b.Type], blockIn{b, f})
		}
	}

	names := map[string]map[string]hcl.Range{}
	unique := func(kind string, b *hcl.Block) bool {
		name := b.Labels[0]
		if names[kind] == nil {
			names[kind] = map[string]hcl.Range{}
		}
		if !hclsyntax.ValidIdentifier(name) && kind != "test" {
			diags = append(diags, errDiag(b.LabelRanges[0], "Invalid name",
				fmt.Sprintf("%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter.", name)))
			return false
		}
		if prev, ok := names[kind][name]; ok {
			diags = append(diags, errDiag(b.LabelRanges[0], "Duplicate name",
				fmt.Sprintf("A %s named %q is already defined at %s.", kind, name, prev.String())))
			return false
		}
		names[kind][name] = b.LabelRanges[0]
		return true
	}

	for _, bi := range byType["variable"] {
		if !unique("variable", bi.b) {
			continue
		}
		content, d := bi.b.Body.Content(variableSchema)
		diags = append(diags, d...)
		a := content.Attributes["default"]
		if a == nil {
			continue
		}
		v, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		t, val, msg := ctyToValue(v)
		if msg != "" {
			diags = append(diags, errDiag(a.Expr.Range(), "Invalid variable value", msg))
			continue
		}
		c.vars[bi.b.Labels[0]] = &variable{name: bi.b.Labels[0], typ: t, val: val, rng: bi.b.LabelRanges[0]}
	}
	for _, bi := range byType["values"] {
		attrs, d := bi.b.Body.JustAttributes()
		diags = append(diags, d...)
		for _, a := range sortedAttrs(attrs) {
			diags = append(diags, c.setVar(a.Name, a.NameRange, a.Expr)...)
		}
	}
	for name, v := range overrides {
		vr, ok := c.vars[name]
		if !ok {
			continue // reported by the test that set it
		}
		t, val, msg := ctyToValue(v)
		if msg == "" && t == vr.typ {
			vr.val = val
		}
	}

	for _, bi := range byType["list"] {
		if !unique("list", bi.b) {
			continue
		}
		content, d := bi.b.Body.Content(listSchema)
		diags = append(diags, d...)
		a := content.Attributes["items"]
		if a == nil {
			continue
		}
		x := &exprCtx{c: c}
		n, d := x.compile(a.Expr)
		diags = append(diags, d...)
		if n == nil {
			continue
		}
		if n.typ != tList || !n.isConst {
			diags = append(diags, errDiag(a.Expr.Range(), "Invalid list", "items must be a constant list of strings."))
			continue
		}
		c.lists[bi.b.Labels[0]] = &namedList{name: bi.b.Labels[0], items: n.cv.l, rng: bi.b.LabelRanges[0]}
	}
	for _, bi := range byType["condition"] {
		if !unique("condition", bi.b) {
			continue
		}
		content, d := bi.b.Body.Content(conditionSchema)
		diags = append(diags, d...)
		if a := content.Attributes["when"]; a != nil {
			c.conds[bi.b.Labels[0]] = &condDef{name: bi.b.Labels[0], expr: a.Expr, src: bi.src(), rng: bi.b.LabelRanges[0]}
		}
	}
	for _, name := range sortedKeys(c.conds) {
		cd := c.conds[name]
		_, d := c.condition(cd, cd.rng)
		diags = append(diags, d...)
	}

	set := &Set{byName: map[string]*rule{}, files: files, hash: sourceHash(files), varDefs: c.vars}
	for _, typ := range []string{"rule", "threshold", "sequence"} {
		for _, bi := range byType[typ] {
			if !unique("rule", bi.b) {
				continue
			}
			r, d := c.rule(typ, bi)
			diags = append(diags, d...)
			if r != nil && !d.HasErrors() {
				set.rules = append(set.rules, r)
				set.byName[r.name] = r
			}
		}
	}
	sort.Slice(set.rules, func(i, j int) bool { return set.rules[i].name < set.rules[j].name })

	for _, bi := range byType["exception"] {
		if !unique("exception", bi.b) {
			continue
		}
		diags = append(diags, c.exception(bi, set, names["rule"])...)
	}
	for _, bi := range byType["test"] {
		if !unique("test", bi.b) {
			continue
		}
		tc, d := c.test(bi, names["rule"])
		diags = append(diags, d...)
		if tc != nil {
			set.tests = append(set.tests, tc)
		}
	}

	for _, name := range sortedKeys(c.lists) {
		if l := c.lists[name]; !l.used {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unused list",
				Detail: fmt.Sprintf("List %q is not used by any rule, condition or exception.", name), Subject: l.rng.Ptr()})
		}
	}
	for _, name := range sortedKeys(c.vars) {
		if v := c.vars[name]; !v.used {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unused variable",
				Detail: fmt.Sprintf("Variable %q is not used by any rule, condition or exception.", name), Subject: v.rng.Ptr()})
		}
	}
	for _, name := range sortedKeys(c.conds) {
		if cd := c.conds[name]; !cd.used && cd.node != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unused condition",
				Detail: fmt.Sprintf("Condition %q is not used by any rule, condition or exception.", name), Subject: cd.rng.Ptr()})
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return set, diags
}

func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NameRange.Start.Byte < out[j].NameRange.Start.Byte })
	return out
}

func (c *compiler) setVar(name string, rng hcl.Range, expr hcl.Expression) hcl.Diagnostics {
	v, ok := c.vars[name]
	if !ok {
		return hcl.Diagnostics{errDiag(rng, "Unknown variable",
			fmt.Sprintf("There is no variable named %q to set.%s", name, suggest(name, sortedKeys(c.vars))))}
	}
	if v.set != nil {
		return hcl.Diagnostics{errDiag(rng, "Variable set twice",
			fmt.Sprintf("Variable %q was already set at %s.", name, v.set.String()))}
	}
	cv, diags := expr.Value(nil)
	if diags.HasErrors() {
		return diags
	}
	t, val, msg := ctyToValue(cv)
	if msg != "" {
		return append(diags, errDiag(expr.Range(), "Invalid variable value", msg))
	}
	if t != v.typ {
		return append(diags, errDiag(expr.Range(), "Type mismatch",
			fmt.Sprintf("Variable %q is a %s (from its default), but this value is a %s.", name, v.typ, t)))
	}
	v.val = val
	v.set = rng.Ptr()
	return diags
}

// constString evaluates an attribute that must be a constant string.
func (c *compiler) constString(a *hcl.Attribute, what string, deps *exprCtx) (string, hcl.Diagnostics) {
	n, diags := deps.compile(a.Expr)
	if n == nil {
		return "", diags
	}
	if n.typ != tStr || !n.isConst {
		return "", append(diags, errDiag(a.Expr.Range(), "Invalid "+what,
			fmt.Sprintf("%s must be a constant string.", a.Name)))
	}
	return n.cv.s, diags
}

func (c *compiler) constNumber(a *hcl.Attribute, deps *exprCtx) (float64, hcl.Diagnostics) {
	n, diags := deps.compile(a.Expr)
	if n == nil {
		return 0, diags
	}
	if n.typ != tNum || !n.isConst {
		return 0, append(diags, errDiag(a.Expr.Range(), "Invalid number",
			fmt.Sprintf("%s must be a constant number.", a.Name)))
	}
	return n.cv.n, diags
}

func (c *compiler) duration(a *hcl.Attribute, deps *exprCtx) (time.Duration, hcl.Diagnostics) {
	s, diags := c.constString(a, "duration", deps)
	if diags.HasErrors() {
		return 0, diags
	}
	d, err := parseDuration(s)
	if err != nil {
		return 0, append(diags, errDiag(a.Expr.Range(), "Invalid duration", err.Error()+"."))
	}
	if d < time.Second || d > 366*24*time.Hour {
		return 0, append(diags, errDiag(a.Expr.Range(), "Invalid duration",
			fmt.Sprintf("%s must be between 1s and 366d, not %s.", a.Name, s)))
	}
	return d, diags
}

func (c *compiler) rule(typ string, bi blockIn) (*rule, hcl.Diagnostics) {
	schema := map[string]*hcl.BodySchema{"rule": ruleSchema, "threshold": thresholdSchema, "sequence": sequenceSchema}[typ]
	content, diags := bi.b.Body.Content(schema)
	if diags.HasErrors() {
		return nil, diags
	}
	r := &rule{name: bi.b.Labels[0], scope: ScopeHost, rng: bi.b.DefRange}
	x := &exprCtx{c: c} // collects deps for the fingerprint
	at := content.Attributes
	r.typ = map[string]ruleType{"rule": typeMatch, "threshold": typeThreshold, "sequence": typeSequence}[typ]

	if a := at["scope"]; a != nil {
		s, d := c.constString(a, "scope", x)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if s != ScopeHost && s != ScopeGlobal {
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid scope",
					fmt.Sprintf("scope must be \"host\" (agent) or \"global\" (collector), not %q.%s", s,
						suggest(s, []string{ScopeHost, ScopeGlobal}))))
			}
			r.scope = s
		}
	}
	if a := at["severity"]; a != nil {
		s, d := c.constString(a, "severity", x)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if event.SeverityRank(s) < 0 {
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid severity",
					fmt.Sprintf("severity must be one of %s, not %q.%s", strings.Join(event.Severities, ", "), s,
						suggest(s, event.Severities))))
			}
			r.severity = s
		}
	}
	if a := at["description"]; a != nil {
		s, d := c.constString(a, "description", x)
		diags = append(diags, d...)
		r.description = s
	}
	if a := at["tags"]; a != nil {
		n, d := x.compile(a.Expr)
		diags = append(diags, d...)
		if n != nil {
			if n.typ != tList || !n.isConst {
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid tags", "tags must be a list of strings, e.g. [\"T1005\"]."))
			} else {
				r.tags = n.cv.l
			}
		}
	}

	switch r.typ {
	case typeMatch, typeThreshold:
		if a := at["when"]; a != nil {
			wx := &exprCtx{c: c}
			n, d := wx.compileBool(a.Expr, "when condition")
			diags = append(diags, d...)
			if n != nil {
				r.when, r.kinds = n, n.kinds
				diags = append(diags, checkFieldKinds(wx.fieldRefs, r.kinds)...)
			}
			x.merge(wx)
		}
		if a := at["by"]; a != nil {
			keys, d := c.keys(a, x, bi.file.data)
			diags = append(diags, d...)
			r.by = keys
		} else if r.typ == typeThreshold {
			diags = append(diags, errDiag(bi.b.DefRange, "Missing by",
				"A threshold needs `by`, the keys it counts per (e.g. by = [person]); use by = [host] to count per host."))
		}
	case typeSequence:
		if a := at["by"]; a != nil {
			keys, d := c.keys(a, x, bi.file.data)
			diags = append(diags, d...)
			r.by = keys
		}
		diags = append(diags, c.steps(r, content.Blocks, x, bi)...)
	}
	if r.typ != typeMatch {
		if a := at["window"]; a != nil {
			w, d := c.duration(a, x)
			diags = append(diags, d...)
			r.window = w
		}
	}
	if r.typ == typeThreshold {
		diags = append(diags, c.threshold(r, at, x)...)
	}
	if r.kinds == nil && r.when != nil && !diags.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Rule matches every event kind",
			Detail:  "Add a condition such as kind == \"db.query\" so the rule is only evaluated for events it can match.",
			Subject: bi.b.DefRange.Ptr()})
	}

	sx := &exprCtx{c: c, summary: true, steps: r.steps}
	if a := at["summary"]; a != nil {
		n, d := sx.compile(a.Expr)
		diags = append(diags, d...)
		if n != nil {
			r.summary = &node{typ: tStr, s: stringer(n)}
		}
	} else {
		text := r.description
		if text == "" {
			text = "rule " + r.name + " fired"
		}
		r.summary = constNode(tStr, value{s: text}, bi.b.DefRange)
	}
	x.merge(sx)
	if diags.HasErrors() {
		return nil, diags
	}

	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", typ, r.scope, bi.src())
	for _, k := range sortedKeys(x.deps) {
		fmt.Fprintf(h, "%s\x00%s\x00", k, x.deps[k])
	}
	r.fingerprint = hex.EncodeToString(h.Sum(nil))
	return r, diags
}

func (x *exprCtx) merge(o *exprCtx) {
	for k, v := range o.deps {
		x.dep(k, v)
	}
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

// keys compiles `by`: a list of fields (named by their path) or an object
// of name = expression.
func (c *compiler) keys(a *hcl.Attribute, x *exprCtx, src []byte) ([]keyExpr, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var out []keyExpr
	add := func(name string, e hcl.Expression) {
		n, d := x.compile(e)
		diags = append(diags, d...)
		if n == nil {
			return
		}
		if n.steps {
			diags = append(diags, errDiag(e.Range(), "Invalid key",
				"Join keys are read from the step's own event; use the step's field (e.g. db.user), not steps.NAME."))
			return
		}
		switch n.typ {
		case tStr, tList:
		case tNum, tBool:
			n = &node{typ: tStr, s: stringer(n), rng: n.rng}
		default:
			diags = append(diags, errDiag(e.Range(), "Invalid key",
				fmt.Sprintf("A key must be a string, number, bool or list of strings, not a %s.", n.typ)))
			return
		}
		for _, k := range out {
			if k.name == name {
				diags = append(diags, errDiag(e.Range(), "Duplicate key", fmt.Sprintf("Key %q appears twice.", name)))
				return
			}
		}
		out = append(out, keyExpr{name: name, n: n})
	}
	switch e := a.Expr.(type) {
	case *hclsyntax.TupleConsExpr:
		for _, el := range e.Exprs {
			r := el.Range()
			name := string(src[r.Start.Byte:r.End.Byte])
			add(name, el)
		}
	case *hclsyntax.ObjectConsExpr:
		for _, it := range e.Items {
			name := hcl.ExprAsKeyword(it.KeyExpr)
			if name == "" {
				diags = append(diags, errDiag(it.KeyExpr.Range(), "Invalid key name", "Key names must be plain identifiers."))
				continue
			}
			add(name, it.ValueExpr)
		}
	default:
		diags = append(diags, errDiag(a.Expr.Range(), "Invalid by",
			"by must be a list of fields, like [person, host], or an object, like { customer = db.identifiers[\"customer_id\"] }."))
	}
	lists := 0
	for _, k := range out {
		if k.n.typ == tList {
			lists++
		}
	}
	if lists > 1 {
		diags = append(diags, errDiag(a.Expr.Range(), "Too many list keys",
			"At most one key may be a list (the event then counts once for each element)."))
	}
	if len(out) == 0 && !diags.HasErrors() {
		diags = append(diags, errDiag(a.Expr.Range(), "Empty by", "by needs at least one key."))
	}
	if len(out) > maxKeys {
		diags = append(diags, errDiag(a.Expr.Range(), "Too many keys", fmt.Sprintf("by takes at most %d keys.", maxKeys)))
	}
	return out, diags
}

const maxBaselinePeriods = 1024

func (c *compiler) threshold(r *rule, at hcl.Attributes, x *exprCtx) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if a := at["limit"]; a != nil {
		f, d := c.constNumber(a, x)
		diags = append(diags, d...)
		r.limit = f
	}
	aggs := 0
	if a := at["count"]; a != nil {
		aggs++
		n, d := x.compile(a.Expr)
		diags = append(diags, d...)
		if n != nil && (n.typ != tBool || !n.isConst || !n.cv.b) {
			diags = append(diags, errDiag(a.Expr.Range(), "Invalid count", "count takes no expression: write count = true, or leave it out (counting is the default)."))
		}
	}
	if a := at["sum"]; a != nil {
		aggs++
		r.agg = aggSum
		n, d := x.compile(a.Expr)
		diags = append(diags, d...)
		if n != nil && n.typ != tNum {
			diags = append(diags, errDiag(a.Expr.Range(), "Invalid sum", fmt.Sprintf("sum needs a number, not a %s.", n.typ)))
		}
		r.aggExpr = n
		if n != nil {
			diags = append(diags, checkFieldKinds(x.fieldRefs, r.kinds)...)
		}
	}
	if a := at["distinct"]; a != nil {
		aggs++
		r.agg = aggDistinct
		n, d := x.compile(a.Expr)
		diags = append(diags, d...)
		if n != nil {
			switch n.typ {
			case tStr, tList:
			case tNum, tBool:
				n = &node{typ: tStr, s: stringer(n), rng: n.rng}
			default:
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid distinct",
					fmt.Sprintf("distinct needs a string or a list of strings, not a %s.", n.typ)))
			}
		}
		r.aggExpr = n
	}
	if aggs > 1 {
		diags = append(diags, errDiag(r.rng, "Conflicting aggregates", "Use only one of count, sum and distinct."))
	}
	if a := at["cooldown"]; a != nil {
		d0, d := c.duration(a, x)
		diags = append(diags, d...)
		r.cooldown = d0
	}
	if a := at["baseline"]; a != nil {
		b, d := c.duration(a, x)
		diags = append(diags, d...)
		r.baseline = b
		r.factor = 3
		if r.agg == aggDistinct {
			diags = append(diags, errDiag(a.NameRange, "Unsupported baseline", "baseline works with count and sum, not distinct."))
		}
		if !d.HasErrors() && r.window > 0 {
			if b < 2*r.window || b/r.window > maxBaselinePeriods {
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid baseline",
					fmt.Sprintf("baseline must cover between 2 and %d windows.", maxBaselinePeriods)))
			}
		}
		r.minHistory = 3 * r.window
		if a := at["min_history"]; a != nil {
			m, d := c.duration(a, x)
			diags = append(diags, d...)
			r.minHistory = m
		}
		if a := at["factor"]; a != nil {
			f, d := c.constNumber(a, x)
			diags = append(diags, d...)
			if !d.HasErrors() && f <= 0 {
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid factor", "factor must be above 0."))
			}
			r.factor = f
		}
	} else {
		for _, name := range []string{"factor", "min_history"} {
			if a := at[name]; a != nil {
				diags = append(diags, errDiag(a.NameRange, "Needs baseline",
					fmt.Sprintf("%s only applies to thresholds with a baseline.", name)))
			}
		}
	}
	return diags
}

// conjuncts splits a && b && c into its parts.
func conjuncts(e hclsyntax.Expression) []hclsyntax.Expression {
	switch e := e.(type) {
	case *hclsyntax.BinaryOpExpr:
		if e.Op == hclsyntax.OpLogicalAnd {
			return append(conjuncts(e.LHS), conjuncts(e.RHS)...)
		}
	case *hclsyntax.ParenthesesExpr:
		return conjuncts(e.Expression)
	}
	return []hclsyntax.Expression{e}
}

func andNodes(ns []*node) *node {
	if len(ns) == 0 {
		return nil
	}
	out := ns[0]
	for _, n := range ns[1:] {
		a, b := out.b, n.b
		out = &node{typ: tBool, b: func(e *env) bool { return a(e) && b(e) }, kinds: out.kinds.intersect(n.kinds)}
	}
	return out
}

func (c *compiler) steps(r *rule, blocks hcl.Blocks, x *exprCtx, bi blockIn) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]hcl.Range{}
	for _, b := range blocks {
		name := b.Labels[0]
		if prev, ok := seen[name]; ok {
			diags = append(diags, errDiag(b.LabelRanges[0], "Duplicate step",
				fmt.Sprintf("A step named %q is already defined at %s.", name, prev.String())))
			continue
		}
		seen[name] = b.LabelRanges[0]
		content, d := b.Body.Content(stepSchema)
		diags = append(diags, d...)
		st := &step{name: name}
		sx := &exprCtx{c: c, steps: append([]*step(nil), r.steps...)}
		r.steps = append(r.steps, st)
		if a := content.Attributes["when"]; a != nil {
			var pre, post []*node
			se, ok := a.Expr.(hclsyntax.Expression)
			if !ok {
				continue
			}
			for _, part := range conjuncts(se) {
				n, d := sx.compileBool(part, "step condition")
				diags = append(diags, d...)
				if n == nil {
					continue
				}
				if n.steps {
					post = append(post, n)
				} else {
					pre = append(pre, n)
				}
			}
			if len(pre) == 0 && !diags.HasErrors() {
				diags = append(diags, errDiag(a.Expr.Range(), "Step needs its own condition",
					"A step must test its own event (e.g. kind == \"file.write\"), not only earlier steps."))
				continue
			}
			st.pre, st.post = andNodes(pre), andNodes(post)
			if st.pre != nil {
				st.kinds = st.pre.kinds
				diags = append(diags, checkFieldKinds(sx.fieldRefs, st.kinds)...)
			}
		}
		if a := content.Attributes["by"]; a != nil {
			keys, d := c.keys(a, sx, bi.file.data)
			diags = append(diags, d...)
			st.by = keys
		} else {
			st.by = r.by
		}
		x.merge(sx)
	}
	if len(r.steps) < 2 && !diags.HasErrors() {
		diags = append(diags, errDiag(bi.b.DefRange, "Too few steps", "A sequence needs at least two step blocks."))
	}
	if diags.HasErrors() {
		return diags
	}
	for i, st := range r.steps {
		if len(st.by) != len(r.steps[0].by) {
			diags = append(diags, errDiag(blocks[i].DefRange, "Mismatched keys",
				fmt.Sprintf("Step %q has %d join keys but step %q has %d; steps join by position.",
					st.name, len(st.by), r.steps[0].name, len(r.steps[0].by))))
		}
		if len(st.by) == 0 {
			diags = append(diags, errDiag(blocks[i].DefRange, "Missing by",
				"A sequence needs join keys: set by on the sequence or on every step."))
		}
		if i == 0 {
			r.kinds = st.kinds
		} else {
			r.kinds = r.kinds.union(st.kinds)
		}
	}
	return diags
}

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

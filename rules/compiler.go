package rules

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// compiler holds the names a rule set declares while it is compiled.
type compiler struct {
	files     map[string][]byte
	vars      map[string]*variable
	lists     map[string]*namedList
	conds     map[string]*condDef
	overrides map[string]cty.Value
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

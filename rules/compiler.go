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
	names map[string]map[string]hcl.Range // by kind of block, where each name is declared
	vars  map[string]*variable
	lists map[string]*namedList
	conds map[string]*condDef
	// idents records where expressions read db.identifiers by a known name.
	idents []IdentifierUse
}

// declare claims a block's name among its kind, reporting a name that is
// invalid or already taken.
func (c *compiler) declare(kind string, b *hcl.Block) *hcl.Diagnostic {
	name := b.Labels[0]
	if c.names[kind] == nil {
		c.names[kind] = map[string]hcl.Range{}
	}
	if !hclsyntax.ValidIdentifier(name) && kind != "test" {
		return errDiag(b.LabelRanges[0], "Invalid name",
			fmt.Sprintf("%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter.", name))
	}
	if prev, ok := c.names[kind][name]; ok {
		return errDiag(b.LabelRanges[0], "Duplicate name",
			fmt.Sprintf("A %s named %q is already defined at %s.", kind, name, prev.String()))
	}
	c.names[kind][name] = b.LabelRanges[0]
	return nil
}

// blockIn is a block with the file it came from.
type blockIn struct {
	b    *hcl.Block
	file parsedFile
}

// src is the block's source text, hashed into fingerprints so that any edit
// to a rule resets its state.
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
		names: map[string]map[string]hcl.Range{}, vars: map[string]*variable{},
		lists: map[string]*namedList{}, conds: map[string]*condDef{},
	}
	var diags hcl.Diagnostics
	byType := map[string][]blockIn{}
	for _, f := range files {
		content, d := f.file.Body.Content(fileSchema)
		diags = append(diags, d...)
		for _, b := range content.Blocks {
			byType[b.Type] = append(byType[b.Type], blockIn{b, f})
		}
	}

	// Declarations come first: rules, exceptions and other declarations
	// refer to them by name.
	diags = append(diags, c.compileVariables(byType["variable"], byType["values"], overrides)...)
	diags = append(diags, c.compileLists(byType["list"])...)
	diags = append(diags, c.compileConditions(byType["condition"])...)

	set := &Set{byName: map[string]*rule{}, files: files, hash: sourceHash(files), varDefs: c.vars}
	for _, typ := range []string{"rule", "threshold", "sequence"} {
		for _, bi := range byType[typ] {
			if d := c.declare("rule", bi.b); d != nil {
				diags = append(diags, d)
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
		if d := c.declare("exception", bi.b); d != nil {
			diags = append(diags, d)
			continue
		}
		diags = append(diags, c.exception(bi, set, c.names["rule"])...)
	}
	for _, bi := range byType["test"] {
		if d := c.declare("test", bi.b); d != nil {
			diags = append(diags, d)
			continue
		}
		tc, d := c.test(bi, c.names["rule"])
		diags = append(diags, d...)
		if tc != nil {
			set.tests = append(set.tests, tc)
		}
	}

	diags = append(diags, c.unusedDeclarations()...)
	withContext(diags, files)
	if diags.HasErrors() {
		return nil, diags
	}
	set.idents = identifierUses(c.idents)
	return set, diags
}

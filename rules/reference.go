package rules

import (
	"fmt"
	"math"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// traversal compiles a name: var.NAME, list.NAME, cond.NAME, steps.NAME,
// a summary's value, group and rule, or an event field.
func (x *exprCtx) traversal(tr hcl.Traversal, rng hcl.Range) (*node, hcl.Diagnostics) {
	root := tr.RootName()
	rest := tr[1:]
	attr := func(what string) (string, hcl.Range, hcl.Diagnostics) {
		if len(rest) == 0 {
			return "", rng, hcl.Diagnostics{errDiag(rng, "Incomplete reference",
				fmt.Sprintf("%s must be followed by a name, as in %s.NAME.", root, root))}
		}
		a, ok := rest[0].(hcl.TraverseAttr)
		if !ok {
			return "", rest[0].SourceRange(), hcl.Diagnostics{errDiag(rest[0].SourceRange(), "Invalid reference",
				fmt.Sprintf("Refer to %s by name, as in %s.NAME.", what, root))}
		}
		rest = rest[1:]
		return a.Name, a.SrcRange, nil
	}
	switch root {
	case "var":
		name, nrng, diags := attr("variables")
		if diags != nil {
			return nil, diags
		}
		v, ok := x.c.vars[name]
		if !ok {
			return nil, hcl.Diagnostics{errDiag(hcl.RangeBetween(tr[0].SourceRange(), nrng), "Unknown variable",
				fmt.Sprintf("There is no variable named %q.%s", name, suggest(name, sortedKeys(x.c.vars))))}
		}
		v.used = true
		x.dep("var."+name, formatValue(v.typ, v.val))
		return x.applyTraversal(constNode(v.typ, v.val, rng), rest, "var."+name)
	case "list":
		name, nrng, diags := attr("lists")
		if diags != nil {
			return nil, diags
		}
		l, ok := x.c.lists[name]
		if !ok {
			return nil, hcl.Diagnostics{errDiag(hcl.RangeBetween(tr[0].SourceRange(), nrng), "Unknown list",
				fmt.Sprintf("There is no list named %q.%s", name, suggest(name, sortedKeys(x.c.lists))))}
		}
		l.used = true
		x.dep("list."+name, strings.Join(l.items, "\x00"))
		return x.applyTraversal(constNode(tList, value{l: l.items}, rng), rest, "list."+name)
	case "cond":
		name, nrng, diags := attr("conditions")
		if diags != nil {
			return nil, diags
		}
		cd, ok := x.c.conds[name]
		if !ok {
			return nil, hcl.Diagnostics{errDiag(hcl.RangeBetween(tr[0].SourceRange(), nrng), "Unknown condition",
				fmt.Sprintf("There is no condition named %q.%s", name, suggest(name, sortedKeys(x.c.conds))))}
		}
		n, diags := x.c.condition(cd, hcl.RangeBetween(tr[0].SourceRange(), nrng))
		if n == nil {
			if !diags.HasErrors() {
				diags = append(diags, errDiag(hcl.RangeBetween(tr[0].SourceRange(), nrng), "Invalid condition",
					fmt.Sprintf("Condition %q has errors, reported where it is defined.", name)))
			}
			return nil, diags
		}
		cd.used = true
		x.dep("cond."+name, cd.src)
		for k, v := range cd.deps {
			x.dep(k, v)
		}
		x.fieldRefs = append(x.fieldRefs, cd.fieldRefs...)
		if len(rest) > 0 {
			return nil, hcl.Diagnostics{errDiag(rest[0].SourceRange(), "Invalid reference", "A condition is a bool; it has no attributes.")}
		}
		return n, diags
	case "steps":
		if x.steps == nil {
			break
		}
		return x.stepRef(tr, rng)
	case "value", "group", "rule":
		if !x.summary {
			break
		}
		var n *node
		switch root {
		case "value":
			n = &node{typ: tNum, n: func(e *env) float64 { return e.value }}
		case "group":
			n = &node{typ: tMap, m: func(e *env) map[string]string { return e.group }}
		case "rule":
			n = &node{typ: tStr, s: func(e *env) string { return e.rule }}
		}
		return x.applyTraversal(n, rest, root)
	}
	n, rest, diags := x.field(tr, rng)
	if diags.HasErrors() {
		return nil, diags
	}
	return x.applyTraversal(n, rest, "")
}

// field resolves an event field path at the start of tr.
func (x *exprCtx) field(tr hcl.Traversal, rng hcl.Range) (*node, hcl.Traversal, hcl.Diagnostics) {
	path := tr.RootName()
	rest := tr[1:]
	end := tr[0].SourceRange()
	for {
		if f, ok := fields[path]; ok {
			x.fieldRefs = append(x.fieldRefs, fieldRef{path: path, rng: hcl.RangeBetween(tr[0].SourceRange(), end)})
			n := f.node()
			n.isKind = path == "kind"
			return n, rest, nil
		}
		isPayload := false
		for _, p := range payloadRoots {
			if p == path {
				isPayload = true
			}
		}
		if !isPayload && strings.IndexByte(path, '.') < 0 {
			cands := append(append(fieldPaths(), payloadRoots...), "var", "list", "cond")
			if x.steps != nil {
				cands = append(cands, "steps")
			}
			if x.summary {
				cands = append(cands, "value", "group", "rule")
			}
			return nil, nil, hcl.Diagnostics{errDiag(end, "Unknown field",
				fmt.Sprintf("There is no event field or name %q.%s", path, suggest(path, cands)))}
		}
		if len(rest) == 0 {
			return nil, nil, hcl.Diagnostics{errDiag(hcl.RangeBetween(tr[0].SourceRange(), end), "Incomplete field",
				fmt.Sprintf("%s is an object; use one of its fields: %s.", path, strings.Join(fieldsUnder(path), ", ")))}
		}
		a, ok := rest[0].(hcl.TraverseAttr)
		if !ok {
			return nil, nil, hcl.Diagnostics{errDiag(rest[0].SourceRange(), "Invalid field reference",
				fmt.Sprintf("Use %s.FIELD to read a field of %s.", path, path))}
		}
		next := path + "." + a.Name
		if _, ok := fields[next]; !ok && isPayload {
			return nil, nil, hcl.Diagnostics{errDiag(hcl.RangeBetween(tr[0].SourceRange(), a.SrcRange), "Unknown field",
				fmt.Sprintf("There is no event field %q.%s", next, suggest(next, fieldsUnder(path))))}
		}
		path = next
		end = a.SrcRange
		rest = rest[1:]
	}
}

// stepRef compiles steps.NAME.FIELD: a field of the event that matched an
// earlier step, captured when that step matched.
func (x *exprCtx) stepRef(tr hcl.Traversal, rng hcl.Range) (*node, hcl.Diagnostics) {
	if len(tr) < 3 {
		return nil, hcl.Diagnostics{errDiag(rng, "Incomplete reference", "Use steps.STEP.FIELD, e.g. steps.write.file.bytes.")}
	}
	a, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return nil, hcl.Diagnostics{errDiag(tr[1].SourceRange(), "Invalid reference", "Use steps.STEP.FIELD, e.g. steps.write.file.bytes.")}
	}
	si := -1
	var names []string
	for i, s := range x.steps {
		names = append(names, s.name)
		if s.name == a.Name {
			si = i
		}
	}
	if si < 0 {
		detail := fmt.Sprintf("There is no earlier step named %q.%s", a.Name, suggest(a.Name, names))
		if len(names) == 0 {
			detail = "The first step cannot refer to other steps."
		}
		return nil, hcl.Diagnostics{errDiag(hcl.RangeBetween(tr[0].SourceRange(), a.SrcRange), "Unknown step", detail)}
	}
	// Resolve the field as if it were read from the step's own event.
	fa, isAttr := tr[2].(hcl.TraverseAttr)
	if !isAttr {
		return nil, hcl.Diagnostics{errDiag(tr[2].SourceRange(), "Invalid reference", "Use steps.STEP.FIELD.")}
	}
	sub := hcl.Traversal{hcl.TraverseRoot{Name: fa.Name, SrcRange: fa.SrcRange}}
	sub = append(sub, tr[3:]...)
	inner := &exprCtx{c: x.c}
	fn, rest, diags := inner.field(sub, rng)
	if diags.HasErrors() {
		return nil, diags
	}
	st := x.steps[si]
	key := ""
	for _, s := range sub[:len(sub)-len(rest)] {
		switch s := s.(type) {
		case hcl.TraverseRoot:
			key = s.Name
		case hcl.TraverseAttr:
			key += "." + s.Name
		}
	}
	ci := st.capture(key, fn)
	n := valueNode(fn.typ, func(e *env) *value { return &e.captured[si][ci] }, rng)
	return x.applyTraversal(n, rest, "steps."+st.name+"."+key)
}

// applyTraversal indexes maps and lists: labels.team, labels["team"],
// db.identifiers["customer_id"], db.tables[0].
func (x *exprCtx) applyTraversal(n *node, rest hcl.Traversal, what string) (*node, hcl.Diagnostics) {
	for _, t := range rest {
		var key cty.Value
		switch t := t.(type) {
		case hcl.TraverseAttr:
			key = cty.StringVal(t.Name)
		case hcl.TraverseIndex:
			key = t.Key
		default:
			return nil, hcl.Diagnostics{errDiag(t.SourceRange(), "Invalid reference", "Unsupported traversal.")}
		}
		kn, diags := literal(key, t.SourceRange())
		if diags.HasErrors() {
			return nil, diags
		}
		if n.typ == tIdents && kn.typ == tStr {
			x.c.noteIdentifier(kn.cv.s, t.SourceRange())
		}
		var err *hcl.Diagnostic
		n, err = indexNode(n, kn, t.SourceRange(), what)
		if err != nil {
			return nil, hcl.Diagnostics{err}
		}
	}
	return n, nil
}

// index compiles collection[key].
func (x *exprCtx) index(e *hclsyntax.IndexExpr) (*node, hcl.Diagnostics) {
	coll, diags := x.compile(e.Collection)
	if diags.HasErrors() {
		return nil, diags
	}
	key, more := x.compile(e.Key)
	diags = append(diags, more...)
	if diags.HasErrors() {
		return nil, diags
	}
	if coll.typ == tIdents && key.typ == tStr && key.isConst {
		x.c.noteIdentifier(key.cv.s, e.Key.Range())
	}
	n, err := indexNode(coll, key, e.Key.Range(), "")
	if err != nil {
		return nil, append(diags, err)
	}
	return n, diags
}

// indexNode reads one element of a map or list node.
func indexNode(coll, key *node, rng hcl.Range, what string) (*node, *hcl.Diagnostic) {
	if what == "" {
		what = "this " + coll.typ.String()
	}
	switch coll.typ {
	case tMap, tIdents:
		if key.typ != tStr {
			return nil, errDiag(rng, "Invalid index", fmt.Sprintf("%s is indexed by string keys, not a %s.", what, key.typ))
		}
		m, im, ks := coll.m, coll.im, key.s
		var out *node
		if coll.typ == tMap {
			out = &node{typ: tStr, s: func(e *env) string { return m(e)[ks(e)] }}
			if key.isConst {
				k := key.cv.s
				out.s = func(e *env) string { return m(e)[k] }
			}
		} else {
			out = &node{typ: tList, l: func(e *env) []string { return im(e)[ks(e)] }}
			if key.isConst {
				k := key.cv.s
				out.l = func(e *env) []string { return im(e)[k] }
			}
		}
		out.steps = coll.steps || key.steps
		return out, nil
	case tList:
		if key.typ != tNum {
			return nil, errDiag(rng, "Invalid index", fmt.Sprintf("%s is indexed by numbers, not a %s.", what, key.typ))
		}
		l, kn := coll.l, key.n
		return &node{typ: tStr, steps: coll.steps || key.steps, s: func(e *env) string {
			list, i := l(e), kn(e)
			if i < 0 || i >= float64(len(list)) || i != math.Trunc(i) {
				return ""
			}
			return list[int(i)]
		}}, nil
	}
	return nil, errDiag(rng, "Invalid index", fmt.Sprintf("%s cannot be indexed.", what))
}

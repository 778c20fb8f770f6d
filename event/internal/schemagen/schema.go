package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// schema is the event schema as event.go declares it.
type schema struct {
	src        string // event.go's path from the module root, named in every output
	pkg        string // its package name
	importPath string // its package's import path
	kinds      []kindConst
	objects    []*object // the root (Event) first, then its payloads in field order
}

// kindConst is one Kind constant.
type kindConst struct{ name, value string }

// object is the root struct or one payload struct.
type object struct {
	goName string // Event, Process, ...
	name   string // the payload's JSON name; "" for the root
	doc    string // the payload field's doc tag
	kinds  []kindConst
	fields []*field
}

// path is the rule path of the object's field name.
func (o *object) path(name string) string {
	if o.name == "" {
		return name
	}
	return o.name + "." + name
}

// field is one field of an object.
type field struct {
	goName    string
	name      string // JSON name
	omitEmpty bool
	omitZero  bool
	typ       typ
	goType    string // the Go type as written: uint32, Kind, *Process, ...
	doc       string
	rule      string // "", "-" (rules cannot read it) or "derived" (read through rules/fields.go)
	obj       *object
}

// omit reports whether encoding/json leaves out an empty value of f.
func (f *field) omit() bool { return f.omitEmpty || f.omitZero }

type typ int

const (
	tString typ = iota
	tUint
	tInt
	tFloat
	tBool
	tTime
	tStrings    // []string
	tStringMap  // map[string]string
	tUintMap    // map[string]uint64
	tStringsMap // map[string][]string
	tObject     // a pointer to a payload struct
)

// basic maps the Go types the generated code handles to their typ.
var basic = map[string]typ{
	"string": tString, "bool": tBool, "float64": tFloat,
	"uint8": tUint, "uint16": tUint, "uint32": tUint, "uint64": tUint,
	"int32": tInt,
}

var jsonName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// load parses the schema from the Go file at src, with no need for the
// package to compile: a field renamed or removed there is regenerated from.
func load(src string) (*schema, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, src, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	s := &schema{pkg: file.Name.Name}
	if s.src, s.importPath, err = modulePaths(src); err != nil {
		return nil, err
	}
	structs := map[string]*ast.StructType{}
	named := map[string]string{} // named types over a basic type: Kind -> string
	for _, decl := range file.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gd.Specs {
			switch sp := spec.(type) {
			case *ast.TypeSpec:
				switch t := sp.Type.(type) {
				case *ast.StructType:
					structs[sp.Name.Name] = t
				case *ast.Ident:
					named[sp.Name.Name] = t.Name
				}
			case *ast.ValueSpec:
				if id, ok := sp.Type.(*ast.Ident); ok && id.Name == "Kind" && gd.Tok == token.CONST {
					for i, n := range sp.Names {
						lit, ok := sp.Values[i].(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							return nil, fmt.Errorf("%s: kind %s is not a string literal", fset.Position(n.Pos()), n.Name)
						}
						v, _ := strconv.Unquote(lit.Value)
						s.kinds = append(s.kinds, kindConst{n.Name, v})
					}
				}
			}
		}
	}
	root, ok := structs["Event"]
	if !ok {
		return nil, fmt.Errorf("%s: no struct Event", src)
	}
	ev := &object{goName: "Event"}
	s.objects = append(s.objects, ev)
	fail := func(pos token.Pos, format string, args ...any) error {
		return fmt.Errorf("%s: %s", fset.Position(pos), fmt.Sprintf(format, args...))
	}
	var fields func(o *object, st *ast.StructType) error
	fields = func(o *object, st *ast.StructType) error {
		seen := map[string]bool{}
		for _, af := range st.Fields.List {
			if len(af.Names) != 1 || af.Tag == nil {
				return fail(af.Pos(), "%s: each field needs its own line, a name and a json tag", o.goName)
			}
			raw, _ := strconv.Unquote(af.Tag.Value)
			tag := reflect.StructTag(raw)
			f := &field{goName: af.Names[0].Name, doc: tag.Get("doc"), rule: tag.Get("rule")}
			where := o.goName + "." + f.goName
			if !ast.IsExported(f.goName) {
				return fail(af.Pos(), "%s is not exported", where)
			}
			name, opts, _ := strings.Cut(tag.Get("json"), ",")
			if !jsonName.MatchString(name) {
				return fail(af.Pos(), "%s: json name %q must be lower case ASCII letters, digits and _ (the decoder relies on it)", where, name)
			}
			if seen[name] {
				return fail(af.Pos(), "%s: json name %q is used twice", where, name)
			}
			seen[name], f.name = true, name
			for _, opt := range strings.Split(opts, ",") {
				switch opt {
				case "":
				case "omitempty":
					f.omitEmpty = true
				case "omitzero":
					f.omitZero = true
				default:
					return fail(af.Pos(), "%s: json option %q is not supported", where, opt)
				}
			}
			if f.doc == "" || !strings.HasSuffix(f.doc, ".") {
				return fail(af.Pos(), "%s needs a doc tag: one sentence, ending in a full stop, saying what it means", where)
			}
			if f.rule != "" && f.rule != "-" && f.rule != "derived" {
				return fail(af.Pos(), `%s: rule tag %q: want "-" (rules cannot read it) or "derived" (rules/fields.go reads it)`, where, f.rule)
			}
			if err := f.setType(af.Type, named); err != nil {
				return fail(af.Pos(), "%s: %v", where, err)
			}
			kinds := tag.Get("kinds")
			switch {
			case f.typ == tObject && o != ev:
				return fail(af.Pos(), "%s: payloads are fields of Event only", where)
			case f.typ == tObject:
				st, ok := structs[f.goType[1:]]
				if !ok {
					return fail(af.Pos(), "%s: no struct %s in %s", where, f.goType[1:], src)
				}
				f.obj = &object{goName: f.goType[1:], name: f.name, doc: f.doc}
				for _, k := range strings.FieldsFunc(kinds, func(r rune) bool { return r == ',' }) {
					i := slices.IndexFunc(s.kinds, func(c kindConst) bool { return c.value == k })
					if i < 0 {
						return fail(af.Pos(), "%s: kinds tag names %q, which is no Kind constant", where, k)
					}
					f.obj.kinds = append(f.obj.kinds, s.kinds[i])
				}
				s.objects = append(s.objects, f.obj)
				if err := fields(f.obj, st); err != nil {
					return err
				}
			case kinds != "":
				return fail(af.Pos(), "%s: only a payload of Event has a kinds tag", where)
			}
			if f.omitZero && f.typ == tFloat {
				return fail(af.Pos(), "%s: omitzero on a float (which keeps -0) is not supported: use omitempty", where)
			}
			o.fields = append(o.fields, f)
		}
		return nil
	}
	return s, fields(ev, root)
}

// setType reads the field's Go type.
func (f *field) setType(e ast.Expr, named map[string]string) error {
	unsupported := fmt.Errorf("type %s is not supported by schemagen (event/internal/schemagen)", types(e))
	f.goType = types(e)
	switch t := e.(type) {
	case *ast.Ident:
		under := t.Name
		if u, ok := named[t.Name]; ok {
			under = u
		}
		typ, ok := basic[under]
		if !ok {
			return unsupported
		}
		if under != t.Name && typ != tString {
			return unsupported
		}
		f.typ = typ
	case *ast.SelectorExpr:
		if f.goType != "time.Time" {
			return unsupported
		}
		f.typ = tTime
	case *ast.ArrayType:
		if f.goType != "[]string" {
			return unsupported
		}
		f.typ = tStrings
	case *ast.MapType:
		switch f.goType {
		case "map[string]string":
			f.typ = tStringMap
		case "map[string]uint64":
			f.typ = tUintMap
		case "map[string][]string":
			f.typ = tStringsMap
		default:
			return unsupported
		}
	case *ast.StarExpr:
		if _, ok := t.X.(*ast.Ident); !ok {
			return unsupported
		}
		f.typ = tObject
	default:
		return unsupported
	}
	return nil
}

// types writes a type expression as Go source spells it.
func types(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.SelectorExpr:
		return types(t.X) + "." + t.Sel.Name
	case *ast.ArrayType:
		if t.Len == nil {
			return "[]" + types(t.Elt)
		}
	case *ast.MapType:
		return "map[" + types(t.Key) + "]" + types(t.Value)
	case *ast.StarExpr:
		return "*" + types(t.X)
	}
	return fmt.Sprintf("%T", e)
}

// modulePaths finds the module holding src and returns src's path from the
// module root and the import path of src's package.
func modulePaths(src string) (rel, importPath string, err error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", "", err
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			m := regexp.MustCompile(`(?m)^module\s+(\S+)`).FindSubmatch(mod)
			if m == nil {
				return "", "", fmt.Errorf("%s: no module line", filepath.Join(dir, "go.mod"))
			}
			rel, err := filepath.Rel(dir, abs)
			if err != nil {
				return "", "", err
			}
			rel = filepath.ToSlash(rel)
			importPath := string(m[1])
			if i := strings.LastIndexByte(rel, '/'); i >= 0 {
				importPath += "/" + rel[:i]
			}
			return rel, importPath, nil
		}
		if filepath.Dir(dir) == dir {
			return "", "", fmt.Errorf("no go.mod above %s", src)
		}
	}
}

package rules

import (
	"testing"

	"github.com/vigilhq/vigil/event"
	"github.com/zclconf/go-cty/cty"
)

func TestTemplates(t *testing.T) {
	checkWhen(t, []whenCase{
		{`"${host}-x" == "h-x"`, event.Event{Host: "h"}, true},
		{`"${db.rows} rows, tls ${db.tls}, ${db.tables}" == "3 rows, tls true, a,b"`, event.Event{DB: &event.DB{Rows: 3, TLS: true, Tables: []string{"a", "b"}}}, true},
		// A template of constants is a constant pattern.
		{`regex(db.user, "^${"svc"}_")`, event.Event{DB: &event.DB{User: "svc_x"}}, true},
	})
}

func TestUnsupportedExpressions(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"object", whenRule(`{ a = 1 } == { a = 1 }`),
			`t.hcl:3:14: error: Unsupported expression; Objects are not supported in rule expressions.`},
		{"splat", whenRule(`contains(db.tables[*], "x")`),
			`t.hcl:3:23: error: Unsupported expression; For and splat expressions are not supported in rule expressions; use contains, glob or a list.`},
		{"list of numbers", whenRule(`contains(["a", 1], db.user)`),
			`t.hcl:3:29: error: Type mismatch; Lists may hold only strings; this is a number.`},
		{"when of a string", whenRule(`db.user`),
			`t.hcl:3:14: error: Condition is not a bool; The when condition must be true or false, but this expression is a string.`},
	})
}

func TestCtyToValue(t *testing.T) {
	for _, c := range []struct {
		v    cty.Value
		typ  vtype
		text string // formatValue of the result, or the message
	}{
		{cty.StringVal("a"), tStr, "a"},
		{cty.NumberFloatVal(1.5), tNum, "1.5"},
		{cty.True, tBool, "true"},
		{cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}), tList, "a,b"},
		{cty.ListValEmpty(cty.String), tList, ""},
		{cty.ObjectVal(map[string]cty.Value{"k": cty.StringVal("v")}), tMap, "k=v"},
		{cty.NullVal(cty.String), tInvalid, "null is not supported in rules."},
		{cty.UnknownVal(cty.String), tInvalid, "The value is not known."},
		{cty.TupleVal([]cty.Value{cty.NumberIntVal(1)}), tInvalid, "Lists may hold only strings."},
		{cty.MapVal(map[string]cty.Value{"k": cty.True}), tInvalid, "Maps may hold only strings."},
		{cty.EmptyTupleVal, tList, ""},
		{cty.DynamicVal, tInvalid, "The value is not known."},
	} {
		typ, val, msg := ctyToValue(c.v)
		text := msg
		if msg == "" {
			text = formatValue(typ, val)
		}
		if typ != c.typ || text != c.text {
			t.Errorf("ctyToValue(%#v) = %s %q, want %s %q", c.v, typ, text, c.typ, c.text)
		}
	}
}

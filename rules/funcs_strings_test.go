package rules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/event"
)

func TestStringFunctions(t *testing.T) {
	checkWhen(t, []whenCase{
		{`regex(db.statement, "(?i)^copy .* to stdout$")`, event.Event{DB: &event.DB{Statement: "COPY t TO STDOUT"}}, true},
		{`contains(db.statement, "email")`, event.Event{DB: &event.DB{Statement: "select email from t"}}, true},
		{`contains(db.statement, "email")`, event.Event{DB: &event.DB{Statement: "select EMAIL from t"}}, false},
		{`icontains(db.statement, "email")`, event.Event{DB: &event.DB{Statement: "select EMAIL from t"}}, true},
		{`contains(db.tables, "customers")`, event.Event{DB: &event.DB{Tables: []string{"orders", "customers"}}}, true},
		{`contains(db.tables, ["a", "customers"])`, event.Event{DB: &event.DB{Tables: []string{"customers"}}}, true},
		{`contains(db.tables, ["a", "b"])`, event.Event{DB: &event.DB{Tables: []string{"customers"}}}, false},
		{`startswith(process.exe, ["/usr/bin/", "/bin/"])`, event.Event{Process: &event.Process{Exe: "/bin/sh"}}, true},
		{`endswith(process.exe, "sh")`, event.Event{Process: &event.Process{Exe: "/bin/zsh"}}, true},
		{`lower(db.user) == "postgres"`, event.Event{DB: &event.DB{User: "Postgres"}}, true},
		{`len(db.tables) == 2`, event.Event{DB: &event.DB{Tables: []string{"a", "b"}}}, true},
		// Edge cases: a dynamic needle, a list made lower, maps' lengths.
		{`contains(db.statement, db.user)`, event.Event{DB: &event.DB{Statement: "grant alice", User: "alice"}}, true},
		{`icontains(db.tables, "CUSTOMERS")`, event.Event{DB: &event.DB{Tables: []string{"customers"}}}, true},
		{`contains(upper(db.tables), "CUSTOMERS")`, event.Event{DB: &event.DB{Tables: []string{"customers"}}}, true},
		{`len(labels) == 1 && len(db.identifiers) == 0 && len(db.user) == 5`, event.Event{Labels: map[string]string{"a": "b"}, DB: &event.DB{User: "alice"}}, true},
		{`startswith(db.user, db.database)`, event.Event{DB: &event.DB{User: "shop_ro", Database: "shop"}}, true},
	})
}

// TestContainsLongConstantList checks that a long constant list, which
// contains looks up in a set, answers as a short one scanned in order does.
func TestContainsLongConstantList(t *testing.T) {
	var items []string
	for i := range 20 {
		items = append(items, fmt.Sprintf("%q", fmt.Sprintf("t%d", i)))
	}
	list := "[" + strings.Join(items, ", ") + "]"
	checkWhen(t, []whenCase{
		{`contains(` + list + `, db.user)`, event.Event{DB: &event.DB{User: "t19"}}, true},
		{`contains(` + list + `, db.user)`, event.Event{DB: &event.DB{User: "T19"}}, false},
		{`icontains(` + list + `, db.user)`, event.Event{DB: &event.DB{User: "T19"}}, true},
		{`contains(` + list + `, db.user)`, event.Event{DB: &event.DB{User: "t20"}}, false},
	})
}

func TestContainsFold(t *testing.T) {
	for _, c := range []struct {
		s, sub string
		want   bool
	}{
		{"SELECT Email FROM t", "email", true},
		{"abc", "", true},
		{"", "a", false},
		{"ab", "abc", false},
		{"x-Y-z", "y-Z", true},
		{"123", "23", true},
		{"Straße", "STRASSE", false}, // ASCII case only
	} {
		if got := containsFold(c.s, c.sub); got != c.want {
			t.Errorf("containsFold(%q, %q) = %v, want %v", c.s, c.sub, got, c.want)
		}
	}
}

func TestStringFunctionArguments(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"contains of a number", whenRule(`contains(db.rows, "a")`),
			`t.hcl:3:23: error: Invalid function argument; Argument 1 of contains must be a list or a string, but this is a number.`},
		{"contains of a number needle", whenRule(`contains(db.tables, db.rows)`),
			`t.hcl:3:34: error: Invalid function argument; Argument 2 of contains must be a string, but this is a number.`},
		{"startswith a number", whenRule(`startswith(db.user, db.rows)`),
			`t.hcl:3:34: error: Invalid function argument; Argument 2 of startswith must be a string or a list of strings, but this is a number.`},
		{"regex of a variable pattern", whenRule(`regex(db.statement, db.user)`),
			`t.hcl:3:34: error: Invalid function argument; Argument 2 of regex must be a constant string (a literal, var or list), known when rules load.`},
		{"lower of a number", whenRule(`lower(db.rows) == ""`),
			`t.hcl:3:20: error: Invalid function argument; Argument 1 of lower must be a string or a list, but this is a number.`},
		{"len of a number", whenRule(`len(db.rows) == 0`),
			`t.hcl:3:18: error: Invalid function argument; Argument 1 of len must be a string, list or map, but this is a number.`},
		{"join with a variable separator", whenRule(`join(db.tables, db.user) == ""`),
			`t.hcl:3:30: error: Invalid function argument; Argument 2 of join must be a constant string (a literal, var or list), known when rules load.`},
	})
}

// lower and upper of a list already in that case hand the list back rather
// than copying it for every event.
func TestCaseOfListAllocatesOnlyForChanges(t *testing.T) {
	set := mustLoad(t, `
rule "r" {
  severity = "low"
  when     = kind == "db.query" && glob(lower(db.tables), ["pg_*", "public.orders"])
}
`)
	e := NewEngine(set, Options{})
	ev := &event.Event{Kind: event.KindDBQuery, Time: t0, DB: &event.DB{Tables: []string{"customers", "Public.Orders"}}}
	if len(e.Process(ev)) != 1 {
		t.Fatal("lower did not convert Public.Orders")
	}
	if ev.DB.Tables[1] != "Public.Orders" {
		t.Fatalf("lower changed the event's list: %v", ev.DB.Tables)
	}
	ev.DB.Tables = []string{"customers", "addresses"}
	if n := testing.AllocsPerRun(100, func() { e.Process(ev) }); n != 0 {
		t.Errorf("%.1f allocations for lower of a lower-case list", n)
	}
}

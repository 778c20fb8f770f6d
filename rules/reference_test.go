package rules

import (
	"testing"

	"github.com/vigilhq/vigil/event"
)

func TestReferences(t *testing.T) {
	checkWhen(t, []whenCase{
		{`db.identifiers["customer_id"][1] == "y"`, event.Event{DB: &event.DB{Identifiers: map[string][]string{"customer_id": {"x", "y"}}}}, true},
		{`db.identifiers["customer_id"][5] == ""`, event.Event{DB: &event.DB{}}, true},
		{`labels.team == "blue" && labels["team"] == "blue"`, event.Event{Labels: map[string]string{"team": "blue"}}, true},
		{`person == "alice"`, event.Event{Process: &event.Process{LoginUID: 1000, LoginUser: "alice", User: "root"}}, true},
		{`person == "root"`, event.Event{Process: &event.Process{LoginUID: event.NoLoginUID, LoginUser: "alice", User: "root"}}, true},
		{`alert.group.person == "a" && contains(alert.tags, "T1")`, event.Event{Alert: &event.Alert{Group: map[string]string{"person": "a"}, Tags: []string{"T1"}}}, true},
		// Indexes out of range, fractional or negative read "".
		{`db.tables[1] == "" && db.tables[0.5] == "" && db.tables[-1] == "" && db.tables[0] == "a"`, event.Event{DB: &event.DB{Tables: []string{"a"}}}, true},
		{`db.tables[db.rows] == "b"`, event.Event{DB: &event.DB{Tables: []string{"a", "b"}, Rows: 1}}, true},
		{`labels[db.user] == "x"`, event.Event{Labels: map[string]string{"alice": "x"}, DB: &event.DB{User: "alice"}}, true},
	})
}

func TestNamedReferences(t *testing.T) {
	set, _ := loadOne(t, `
variable "limits" {
  default = { rows = "100" }
}
list "tools" {
  items = ["pg_dump", "mysqldump"]
}
condition "dump" {
  when = kind == "process.exec" && contains(list.tools, process.comm)
}
rule "r" {
  severity = "low"
  when     = cond.dump && var.limits.rows == "100" && list.tools[1] == "mysqldump"
}
`)
	ev := event.Event{Kind: event.KindProcessExec, Time: t0, Process: &event.Process{Comm: "mysqldump"}}
	if got := NewEngine(set, Options{}).Process(&ev); len(got) != 1 {
		t.Fatalf("rule over var, list and cond did not fire: %v", got)
	}
}

func TestReferenceErrors(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"var alone", whenRule(`var == "x"`),
			`t.hcl:3:14: error: Incomplete reference; var must be followed by a name, as in var.NAME.`},
		{"var by index", whenRule(`var["x"] == "x"`),
			`t.hcl:3:17: error: Invalid reference; Refer to variables by name, as in var.NAME.`},
		{"unknown list", whenRule(`contains(list.tool, db.user)`),
			`t.hcl:3:23: error: Unknown list; There is no list named "tool".`},
		{"attribute of a condition", "condition \"c\" {\n  when = kind == \"db.query\"\n}\n" + whenRule(`cond.c.x`),
			`t.hcl:6:20: error: Invalid reference; A condition is a bool; it has no attributes.`},
		{"steps outside a sequence", whenRule(`steps.a.db.rows > 1`),
			`t.hcl:3:14: error: Unknown field; There is no event field or name "steps".`},
		{"value outside a summary", whenRule(`value > 1`),
			`t.hcl:3:14: error: Unknown field; There is no event field or name "value".`},
		{"map indexed by a number", whenRule(`labels[1] == "x"`),
			`t.hcl:3:20: error: Invalid index; this map of strings is indexed by string keys, not a number.`},
		{"list indexed by a string", whenRule(`db.tables["x"] == "x"`),
			`t.hcl:3:23: error: Invalid index; this list of strings is indexed by numbers, not a string.`},
		{"string indexed", whenRule(`db.user[0] == "x"`),
			`t.hcl:3:21: error: Invalid index; this string cannot be indexed.`},
		{"attribute of a variable's string", "variable \"v\" {\n  default = \"x\"\n}\n" + whenRule(`var.v.x == "x"`),
			`t.hcl:6:19: error: Invalid index; var.v cannot be indexed.`},
		{"step without a field", `
sequence "s" {
  severity = "high"
  by       = [person]
  window   = "1h"
  step "a" {
    when = kind == "db.query"
  }
  step "b" {
    when = kind == "file.write" && steps.a == 1
  }
}
`, `t.hcl:10:36: error: Incomplete reference; Use steps.STEP.FIELD, e.g. steps.write.file.bytes.`},
	})
}

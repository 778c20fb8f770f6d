package rules

import (
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

func TestValuesReplaceDefaults(t *testing.T) {
	set, _ := loadOne(t, `
variable "limit" {
  default = 10
}
variable "tools" {
  default = ["pg_dump"]
}
values {
  limit = 2
  tools = ["pg_dump", "mysqldump"]
}
rule "r" {
  severity = "low"
  when     = kind == "db.query" && db.rows > var.limit && contains(var.tools, process.comm)
}
`)
	ev := event.Event{Kind: event.KindDBQuery, Time: t0, Process: &event.Process{Comm: "mysqldump"}, DB: &event.DB{Rows: 3}}
	if got := NewEngine(set, Options{}).Process(&ev); len(got) != 1 {
		t.Fatal("the values block did not replace the defaults")
	}
}

func TestDeclarationErrors(t *testing.T) {
	const limit = "variable \"limit\" {\n  default = 10\n}\n"
	checkRejects(t, []rejectCase{
		{"variable set twice", limit + "values {\n  limit = 1\n}\nvalues {\n  limit = 2\n}\n",
			`t.hcl:8:3: error: Variable set twice; Variable "limit" was already set at t.hcl:5,3-8.`},
		{"map of numbers", "variable \"m\" {\n  default = { a = 1 }\n}\n",
			`t.hcl:2:13: error: Invalid variable value; Maps may hold only strings.`},
		{"default from an event", "variable \"v\" {\n  default = person\n}\n",
			`t.hcl:2:13: error: Variables not allowed; Variables may not be used here.`},
		{"values of the wrong type", limit + "values {\n  limit = [\"1\"]\n}\n",
			`t.hcl:5:11: error: Type mismatch; Variable "limit" is a number (from its default), but this value is a list of strings.`},
		{"list from an event", "list \"l\" {\n  items = [person]\n}\n",
			`t.hcl:2:11: error: Invalid list; items must be a constant list of strings.`},
		{"list of a string", "list \"l\" {\n  items = \"a\"\n}\n",
			`t.hcl:2:11: error: Invalid list; items must be a constant list of strings.`},
		{"condition refers to itself", "condition \"c\" {\n  when = kind == \"db.query\" && cond.c\n}\n",
			`t.hcl:2:32: error: Condition refers to itself; Condition "c" is part of a cycle of conditions referring to each other.`},
		{"condition not a bool", "condition \"c\" {\n  when = db.rows\n}\n",
			`t.hcl:2:10: error: Condition is not a bool; The condition must be true or false, but this expression is a number.`},
	})
}

// TestConditionsCompileOnce checks that a condition used by several rules
// and conditions reports its own errors once, where it is defined.
func TestConditionsCompileOnce(t *testing.T) {
	_, diags := Load(Source{Name: "t.hcl", Data: []byte(`
condition "a" {
  when = db.rowz > 1
}
condition "b" {
  when = cond.a
}
rule "r1" {
  severity = "low"
  when     = cond.a
}
rule "r2" {
  severity = "low"
  when     = cond.b
}
`)})
	var unknown int
	for _, d := range diags {
		if d.Summary == "Unknown field" {
			unknown++
		}
	}
	if unknown != 1 {
		t.Fatalf("%d reports of the unknown field, want 1:\n%s", unknown, diags.Error())
	}
}

// A condition shared by several rules is worked out once per event, and
// the result is the event's own, never the previous event's.
func TestConditionMemoPerEvent(t *testing.T) {
	set := mustLoad(t, `
condition "big" {
  when = kind == "db.query" && db.rows > 100
}
rule "a" {
  severity = "low"
  when     = cond.big
}
rule "b" {
  severity = "low"
  when     = cond.big && db.user == "x"
}
`)
	if set.nconds != 1 {
		t.Fatalf("%d memo slots, want 1", set.nconds)
	}
	e := NewEngine(set, Options{})
	for i, c := range []struct {
		rows uint64
		want int
	}{{500, 2}, {5, 0}, {500, 2}, {500, 2}, {1, 0}} {
		ev := dbq("e", "alice", time.Duration(i)*time.Second, c.rows)
		ev.DB.User = "x"
		if got := len(e.Process(ev)); got != c.want {
			t.Errorf("event %d (%d rows): %d alerts, want %d", i, c.rows, got, c.want)
		}
	}
	e.Swap(mustLoad(t, `
condition "small" {
  when = kind == "db.query" && db.rows < 10
}
rule "c" {
  severity = "low"
  when     = cond.small
}
`))
	if got := len(e.Process(dbq("e", "alice", time.Minute, 5))); got != 1 {
		t.Errorf("after a swap: %d alerts, want 1", got)
	}
}

package rules

import (
	"fmt"
	"slices"
	"testing"

	"github.com/vigilhq/vigil/event"
)

// whenCase is a rule condition and whether it holds for an event.
type whenCase struct {
	when string
	ev   event.Event
	want bool
}

// checkWhen compiles each condition as a rule's when and checks whether the
// rule fires on the case's event, sent as a db.query at t0 unless it has a
// time of its own.
func checkWhen(t *testing.T, cases []whenCase) {
	t.Helper()
	for _, c := range cases {
		set, diags := Load(Source{Name: "f.hcl", Data: []byte(fmt.Sprintf("rule \"r\" {\n  severity = \"low\"\n  when = %s\n}\n", c.when))})
		if diags.HasErrors() {
			t.Errorf("%s: %v", c.when, diags)
			continue
		}
		ev := c.ev
		ev.Kind = event.KindDBQuery
		if ev.Time.IsZero() {
			ev.Time = t0
		}
		got := len(NewEngine(set, Options{}).Process(&ev)) == 1
		if got != c.want {
			t.Errorf("%s: got %v, want %v", c.when, got, c.want)
		}
	}
}

// whenRule is a rule file whose one rule has the condition when.
func whenRule(when string) string {
	return fmt.Sprintf("rule \"r\" {\n  severity = \"low\"\n  when     = %s\n}\n", when)
}

func TestFunctionCalls(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"unknown function", whenRule(`contians(db.tables, "x")`),
			`t.hcl:3:14: error: Unknown function; There is no function named "contians". Did you mean "contains"?`},
		{"too few arguments", whenRule(`contains(db.tables)`),
			`t.hcl:3:14: error: Wrong number of arguments; contains takes 2 arguments, not 1: contains(list, string) | contains(string, substring) | contains(list, list).`},
		{"too many arguments", whenRule(`join(db.tables, ",", "x") == ""`),
			`t.hcl:3:14: error: Wrong number of arguments; join takes 1 argument, not 3: join(list) | join(list, separator): for summaries.`},
		{"expansion", whenRule(`contains(db.tables...)`),
			`t.hcl:3:35: error: Unsupported expansion; Argument expansion (...) is not supported.`},
		{"argument error names the usage", whenRule(`endswith(db.rows, "x")`),
			`t.hcl:3:23: error: Invalid function argument; Argument 1 of endswith must be a string, but this is a number. Usage: endswith(string, suffix or list of suffixes).`},
		{"argument errors stop the call", whenRule(`contains(db.tablez, "x")`),
			`t.hcl:3:23: error: Unknown field; There is no event field "db.tablez". Did you mean "db.tables"?`},
	})
	// join takes one or two arguments.
	checkWhen(t, []whenCase{
		{`join(db.tables) == "a, b" && join(db.tables, "+") == "a+b"`, event.Event{DB: &event.DB{Tables: []string{"a", "b"}}}, true},
	})
}

// TestCallsReadingStepsRunAfterTheStep checks that a call whose argument
// reads an earlier step is itself marked as reading steps, so a sequence
// evaluates it against the captured event rather than the current one.
func TestCallsReadingStepsRunAfterTheStep(t *testing.T) {
	set, _ := loadOne(t, `
sequence "s" {
  severity = "high"
  by       = [person]
  window   = "1h"
  step "read" {
    when = kind == "db.query"
  }
  step "write" {
    when = kind == "file.write" && contains(steps.read.db.tables, "customers")
  }
}
`)
	st := set.byName["s"].steps[1]
	if st.pre == nil || st.post == nil {
		t.Fatalf("step write: pre %v, post %v; want both", st.pre != nil, st.post != nil)
	}
}

func TestFunctionNames(t *testing.T) {
	names := functionNames()
	if !slices.IsSorted(names) || len(names) != len(functions) {
		t.Fatalf("functionNames = %v", names)
	}
	for _, n := range names {
		if functions[n].sig == "" || len(functions[n].nargs) == 0 {
			t.Errorf("function %s has no usage or argument count", n)
		}
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 arguments", 1: "1 argument", 4: "4 arguments"} {
		if got := plural(n, "argument"); got != want {
			t.Errorf("plural(%d) = %q, want %q", n, got, want)
		}
	}
}

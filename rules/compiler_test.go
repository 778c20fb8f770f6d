package rules

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestBlockNames(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"rule and threshold share names", whenRule("true") + "threshold \"r\" {\n  severity = \"low\"\n  when = kind == \"db.query\"\n  by = [person]\n  window = \"1h\"\n  limit = 1\n}\n",
			`t.hcl:5:11: error: Duplicate name; A rule named "r" is already defined at t.hcl:1,6-9.`},
		{"name with a space", "list \"a b\" {\n  items = []\n}\n",
			`t.hcl:1:6: error: Invalid name; "a b" is not a valid name: use letters, digits, underscores and dashes, starting with a letter.`},
		{"duplicate condition", "condition \"c\" {\n  when = true\n}\ncondition \"c\" {\n  when = false\n}\n",
			`t.hcl:4:11: error: Duplicate name; A condition named "c" is already defined at t.hcl:1,11-14.`},
	})
	// Each kind of block has names of its own; test names are free text.
	_, diags := loadOne(t, `
variable "dump" {
  default = "pg_dump"
}
list "dump" {
  items = [var.dump]
}
condition "dump" {
  when = kind == "process.exec" && contains(list.dump, process.comm)
}
rule "dump" {
  severity = "high"
  when     = cond.dump
}
test "pg_dump, run by hand, is flagged" {
  events = [{ kind = "process.exec", process = { comm = "pg_dump" } }]
  expect "dump" {}
}
`)
	if len(diags) != 0 {
		t.Errorf("warnings: %s", diags.Error())
	}
}

// TestOneErrorRejectsTheSet checks that a set is applied whole or not at
// all: one broken rule among good ones rejects every file.
func TestOneErrorRejectsTheSet(t *testing.T) {
	set, diags := Load(Source{Name: "good.hcl", Data: []byte(goodRule)}, Source{Name: "bad.hcl", Data: []byte(whenRule("db.rowz > 1"))})
	if set != nil || !diags.HasErrors() {
		t.Fatalf("a set with a broken file: %v", set)
	}
}

// TestDeclarationsAcrossFiles checks that declarations are compiled before
// the rules, whichever file holds them.
func TestDeclarationsAcrossFiles(t *testing.T) {
	set, diags := Load(
		Source{Name: "a.hcl", Data: []byte(whenRule(`cond.big && contains(list.tables, db.tables[0])`))},
		Source{Name: "b.hcl", Data: []byte("condition \"big\" {\n  when = kind == \"db.query\" && db.rows > var.rows\n}\n" +
			"list \"tables\" {\n  items = [\"customers\"]\n}\nvariable \"rows\" {\n  default = 10\n}\n")},
	)
	if diags.HasErrors() || len(diags) != 0 || len(set.Names()) != 1 {
		t.Fatalf("load: %v", diags)
	}
}

func TestUnusedDeclarationsWarn(t *testing.T) {
	set, diags := loadOne(t, goodRule+`
variable "v" {
  default = 1
}
list "l" {
  items = []
}
condition "c" {
  when = true
}
`)
	if set == nil {
		t.Fatal("warnings rejected the set")
	}
	var got []string
	for _, d := range diags {
		if d.Severity != hcl.DiagWarning {
			t.Errorf("not a warning: %s", FormatDiagnostic(d))
		}
		got = append(got, FormatDiagnostic(d))
	}
	want := []string{
		`t.hcl:9:6: warning: Unused list; List "l" is not used by any rule, condition or exception.`,
		`t.hcl:6:10: warning: Unused variable; Variable "v" is not used by any rule, condition or exception.`,
		`t.hcl:12:11: warning: Unused condition; Condition "c" is not used by any rule, condition or exception.`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("got  %s\nwant %s", got[i], want[i])
		}
	}
}

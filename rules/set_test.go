package rules

import (
	"reflect"
	"testing"
)

func TestNilSet(t *testing.T) {
	var s *Set
	if s.Hash() != "" || s.Names() != nil || s.Rules() != nil {
		t.Fatal("a nil set is not empty")
	}
}

func TestSetDescribesItsRules(t *testing.T) {
	set, _ := loadOne(t, `
rule "b_match" {
  severity = "low"
  tags     = ["T1005"]
  when     = kind == "process.exec"
}

threshold "a_count" {
  scope    = "global"
  severity = "high"
  when     = kind == "db.query"
  by       = [person]
  window   = "1h"
  limit    = 10
}
`)
	want := []RuleInfo{
		{Name: "a_count", Type: "threshold", Scope: ScopeGlobal, Severity: "high", Pos: "t.hcl:8"},
		{Name: "b_match", Type: "rule", Scope: ScopeHost, Severity: "low", Tags: []string{"T1005"}, Pos: "t.hcl:2"},
	}
	got := set.Rules()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Rules() = %+v\nwant %+v", got, want)
	}
	if names := set.Names(); !reflect.DeepEqual(names, []string{"a_count", "b_match"}) {
		t.Errorf("Names() = %v", names)
	}
	got[1].Tags[0] = "changed"
	if set.Rules()[1].Tags[0] != "T1005" {
		t.Error("Rules() hands out the set's own tags")
	}
	if len(set.Hash()) != 64 {
		t.Errorf("Hash() = %q, want a sha256 in hex", set.Hash())
	}
}

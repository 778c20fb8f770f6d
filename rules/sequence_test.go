package rules

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/vigilhq/vigil/event"
)

func TestConjuncts(t *testing.T) {
	for src, want := range map[string]int{
		`a && b && c`:      3,
		`(a && b) && (c)`:  3,
		`a && (b || c)`:    2,
		`a || b && c`:      1,
		`!(a && b)`:        1,
		`a ? b && c : d`:   1,
		`a && b ? c : d`:   1,
		`((a && b)) && !c`: 3,
	} {
		e, diags := hclsyntax.ParseExpression([]byte(src), "e", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if got := len(conjuncts(e)); got != want {
			t.Errorf("conjuncts(%s) has %d parts, want %d", src, got, want)
		}
	}
}

// TestStepsSplitConditions checks that a step's condition splits into the
// parts on its own event, which pick the events it runs for, and those on
// earlier steps, which run once an earlier step has matched.
func TestStepsSplitConditions(t *testing.T) {
	set, _ := loadOne(t, `
sequence "s" {
  severity = "high"
  by       = [person]
  window   = "1h"
  summary  = "${steps.read.db.rows} rows, then ${steps.write.file.bytes} bytes"
  step "read" {
    when = kind == "db.query" && db.rows > 100
  }
  step "write" {
    when = kind == "file.write" && file.bytes > steps.read.db.rows && steps.read.db.user != ""
  }
}
`)
	r := set.byName["s"]
	read, write := r.steps[0], r.steps[1]
	if read.post != nil || write.pre == nil || write.post == nil {
		t.Fatalf("split: read.post %v, write.pre %v, write.post %v", read.post != nil, write.pre != nil, write.post != nil)
	}
	if len(read.captures) != 2 || len(write.captures) != 1 {
		t.Errorf("captures: read %v, write %v", read.captureIdx, write.captureIdx)
	}
	if len(r.kinds) != 2 || !r.kinds[event.KindDBQuery] || !r.kinds[event.KindFileWrite] {
		t.Errorf("kinds %v, want db.query and file.write", r.kinds)
	}
}

func TestSequenceErrors(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"steps with different key counts", `
sequence "s" {
  severity = "high"
  by       = [person]
  window   = "1h"
  step "a" {
    when = kind == "db.query"
  }
  step "b" {
    when = kind == "file.write"
    by   = [person, host]
  }
}
`, `t.hcl:9:3: error: Mismatched keys; Step "b" has 2 join keys but step "a" has 1; steps join by position.`},
		{"window too long", `
sequence "s" {
  severity = "high"
  by       = [person]
  window   = "367d"
  step "a" {
    when = kind == "db.query"
  }
  step "b" {
    when = kind == "file.write"
  }
}
`, `t.hcl:5:14: error: Invalid duration; window must be between 1s and 366d, not 367d.`},
		{"step condition not a bool", `
sequence "s" {
  severity = "high"
  by       = [person]
  window   = "1h"
  step "a" {
    when = kind == "db.query" && db.rows
  }
  step "b" {
    when = kind == "file.write"
  }
}
`, `t.hcl:7:34: error: Condition is not a bool; The step condition must be true or false, but this expression is a number.`},
	})
}

package rules

import (
	"strings"
	"testing"
)

// An expect block's summary is the exact text of one alert's summary; a
// different text fails the test and names what the alerts said.
func TestExpectSummary(t *testing.T) {
	src := func(summary string) string {
		return `
rule "big" {
  severity = "low"
  when     = kind == "db.query" && db.rows > 100
  summary  = "${person} read ${number(db.rows)} rows"
}
test "summary" {
  events = [{ kind = "db.query", process = { login_user = "ann" }, db = { rows = 40000 } }]
  expect "big" {
    summary = "` + summary + `"
  }
}
`
	}
	res := mustLoad(t, src("ann read 40,000 rows")).RunTests()
	if len(res) != 1 || !res[0].Passed {
		t.Fatalf("results %+v, want the test to pass", res)
	}
	res = mustLoad(t, src("ann read 40000 rows")).RunTests()
	if len(res) != 1 || res[0].Passed || !strings.Contains(strings.Join(res[0].Failures, "\n"), `expected summary "ann read 40000 rows", got ["ann read 40,000 rows"]`) {
		t.Fatalf("results %+v, want a failure naming the summary given", res)
	}
	_, diags := Load(Source{Name: "t.hcl", Data: []byte(strings.Replace(src("x"), `"x"`, "3", 1))})
	if !strings.Contains(diags.Error(), "summary must be a string") {
		t.Errorf("a summary of a number: %v", diags)
	}
}

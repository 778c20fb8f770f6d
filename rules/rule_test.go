package rules

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/vigilhq/vigil/event"
)

func TestRuleAttributes(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"tags of a string", "rule \"r\" {\n  severity = \"low\"\n  tags = \"T1005\"\n  when = true\n}\n",
			`t.hcl:3:10: error: Invalid tags; tags must be a list of strings, e.g. ["T1005"].`},
		{"severity from an event", "rule \"r\" {\n  severity = db.user\n  when = true\n}\n",
			`t.hcl:2:14: error: Invalid severity; severity must be a constant string.`},
		{"description from an event", "rule \"r\" {\n  severity = \"low\"\n  description = db.user\n  when = true\n}\n",
			`t.hcl:3:17: error: Invalid description; description must be a constant string.`},
		{"scope", "rule \"r\" {\n  scope = \"hots\"\n  severity = \"low\"\n  when = true\n}\n",
			`t.hcl:2:11: error: Invalid scope; scope must be "host" (agent) or "global" (collector), not "hots". Did you mean "host"?`},
	})
}

// TestSummaries checks the alert summary: the template when there is one,
// else the description, else a sentence naming the rule.
func TestSummaries(t *testing.T) {
	set, _ := loadOne(t, `
rule "templated" {
  severity = "low"
  when     = kind == "db.query"
  summary  = "${rule}: ${person} on ${host}"
}
rule "described" {
  severity    = "low"
  description = "A query ran."
  when        = kind == "db.query"
}
rule "bare" {
  severity = "low"
  when     = kind == "db.query"
}
`)
	ev := event.Event{Kind: event.KindDBQuery, Time: t0, Host: "ws-1", Process: &event.Process{LoginUID: 7, LoginUser: "alice"}}
	got := map[string]string{}
	for _, a := range NewEngine(set, Options{}).Process(&ev) {
		got[a.Alert.Rule] = a.Alert.Summary
	}
	want := map[string]string{"templated": "templated: alice on ws-1", "described": "A query ran.", "bare": "rule bare fired"}
	for r, s := range want {
		if got[r] != s {
			t.Errorf("%s: summary %q, want %q", r, got[r], s)
		}
	}
}

func TestRuleForEveryKindWarns(t *testing.T) {
	set, diags := loadOne(t, whenRule(`process.comm == "pg_dump"`))
	if set == nil || len(diags) != 1 || diags[0].Severity != hcl.DiagWarning ||
		FormatDiagnostic(diags[0]) != `t.hcl:1:1: warning: Rule matches every event kind; Add a condition such as kind == "db.query" so the rule is only evaluated for events it can match.` {
		t.Fatalf("diagnostics: %v", diags)
	}
}

// TestFingerprints checks what resets a rule's window state on reload: its
// own text and what it uses, but not other rules or unused declarations.
func TestFingerprints(t *testing.T) {
	const base = `
variable "limit" {
  default = 10
}
rule "a" {
  severity = "low"
  when     = kind == "db.query" && db.rows > var.limit
}
rule "b" {
  severity = "low"
  when     = kind == "file.write"
}
`
	fp := func(src string) map[string]string {
		t.Helper()
		set, _ := loadOne(t, src)
		out := map[string]string{}
		for _, r := range set.rules {
			out[r.name] = r.fingerprint
		}
		return out
	}
	orig := fp(base)
	for _, c := range []struct {
		name, src    string
		aSame, bSame bool
	}{
		{"unchanged", base, true, true},
		{"list added", base + "list \"l\" {\n  items = []\n}\n", true, true},
		{"variable used by a changed", base + "values {\n  limit = 11\n}\n", false, true},
		{"rule b edited", base[:len(base)-2] + "  description = \"x\"\n}\n", true, false},
	} {
		got := fp(c.src)
		if (got["a"] == orig["a"]) != c.aSame || (got["b"] == orig["b"]) != c.bSame {
			t.Errorf("%s: a kept %v (want %v), b kept %v (want %v)", c.name,
				got["a"] == orig["a"], c.aSame, got["b"] == orig["b"], c.bSame)
		}
	}
}

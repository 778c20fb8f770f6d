package rules

import "testing"

func TestExceptionsAttachToTheirRules(t *testing.T) {
	set, _ := loadOne(t, goodRule+whenRule(`kind == "db.query"`)+`
exception "backups" {
  rules  = ["dump"]
  when   = process.user == "backup"
  reason = "The nightly backup runs pg_dump."
}
`)
	if ex := set.byName["dump"].exceptions; len(ex) != 1 || ex[0].name != "backups" || ex[0].reason != "The nightly backup runs pg_dump." {
		t.Errorf("dump's exceptions: %+v", ex)
	}
	if ex := set.byName["r"].exceptions; len(ex) != 0 {
		t.Errorf("r has exceptions it was not given: %+v", ex)
	}
}

func TestExceptionErrors(t *testing.T) {
	exc := func(rules, reason string) string {
		return goodRule + "exception \"e\" {\n  rules = " + rules + "\n  when = true\n  reason = " + reason + "\n}\n"
	}
	checkRejects(t, []rejectCase{
		{"blank reason", exc(`["dump"]`, `" "`),
			`t.hcl:8:12: error: Empty reason; Say why the exception exists.`},
		{"rules of a string", exc(`"dump"`, `"x"`),
			`t.hcl:6:11: error: Invalid rules; rules must be a list of rule names.`},
		{"no rules", exc(`[]`, `"x"`),
			`t.hcl:6:11: error: Invalid rules; rules must be a list of rule names.`},
		{"misspelt rule", exc(`["dmup"]`, `"x"`),
			`t.hcl:6:11: error: Unknown rule; There is no rule named "dmup". Did you mean "dump"?`},
		{"reason from an event", exc(`["dump"]`, `process.user`),
			`t.hcl:8:12: error: Invalid reason; reason must be a constant string.`},
	})
}

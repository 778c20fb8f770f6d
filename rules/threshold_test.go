package rules

import (
	"fmt"
	"testing"
	"time"
)

// thresholdWith is a threshold over db.query events by person, with a
// window of an hour and the given attributes.
func thresholdWith(attrs string) string {
	return fmt.Sprintf("threshold \"t\" {\n  severity = \"low\"\n  when = kind == \"db.query\"\n  by = [person]\n  window = \"1h\"\n%s}\n", attrs)
}

func TestThresholdDefaults(t *testing.T) {
	set, _ := loadOne(t, thresholdWith("  limit = 5\n  sum = db.rows\n  baseline = \"7d\"\n"))
	r := set.byName["t"]
	if r.agg != aggSum || r.limit != 5 || r.window != time.Hour || r.baseline != 7*24*time.Hour ||
		r.factor != 3 || r.minHistory != 3*time.Hour || r.cooldown != 0 {
		t.Fatalf("compiled threshold: %+v", r)
	}
	set, _ = loadOne(t, thresholdWith("  limit = 5\n  count = true\n  cooldown = \"2h\"\n  baseline = \"1d\"\n  factor = 1.5\n  min_history = \"4h\"\n"))
	r = set.byName["t"]
	if r.agg != aggCount || r.cooldown != 2*time.Hour || r.factor != 1.5 || r.minHistory != 4*time.Hour {
		t.Fatalf("compiled threshold: %+v", r)
	}
}

func TestThresholdErrors(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"count of an expression", thresholdWith("  limit = 1\n  count = db.rows > 1\n"),
			`t.hcl:7:11: error: Invalid count; count takes no expression: write count = true, or leave it out (counting is the default).`},
		{"distinct of a map", thresholdWith("  limit = 1\n  distinct = labels\n"),
			`t.hcl:7:14: error: Invalid distinct; distinct needs a string or a list of strings, not a map of strings.`},
		{"limit from an event", thresholdWith("  limit = db.rows\n"),
			`t.hcl:6:11: error: Invalid number; limit must be a constant number.`},
		{"baseline of one window", thresholdWith("  limit = 1\n  baseline = \"1h\"\n"),
			`t.hcl:7:14: error: Invalid baseline; baseline must cover between 2 and 1024 windows.`},
		{"baseline of too many windows", thresholdWith("  limit = 1\n  baseline = \"43d\"\n"),
			`t.hcl:7:14: error: Invalid baseline; baseline must cover between 2 and 1024 windows.`},
		{"factor of zero", thresholdWith("  limit = 1\n  baseline = \"1d\"\n  factor = 0\n"),
			`t.hcl:8:12: error: Invalid factor; factor must be above 0.`},
		{"min_history without baseline", thresholdWith("  limit = 1\n  min_history = \"1d\"\n"),
			`t.hcl:7:3: error: Needs baseline; min_history only applies to thresholds with a baseline.`},
		{"sum of a field of other events", thresholdWith("  limit = 1\n  sum = file.bytes\n"),
			`t.hcl:7:9: error: Field not on these events; file.bytes is only set on file.write and file.rename events, but this condition only matches db.query events.`},
	})
}

package rules

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"90s": 90 * time.Second, "15m": 15 * time.Minute, "1d": 24 * time.Hour, "1.5d": 36 * time.Hour,
		"2w": 14 * 24 * time.Hour, "1h30m": 90 * time.Minute, "1d12h": 36 * time.Hour, "500ms": 500 * time.Millisecond,
	} {
		if got, err := parseDuration(s); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "d", "10", "10x", "5 minutes", "-1h", "1y"} {
		if _, err := parseDuration(s); err == nil {
			t.Errorf("parseDuration(%q) accepted", s)
		}
	}
}

func TestConstantAttributes(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"window under a second", "threshold \"t\" {\n  severity = \"low\"\n  when = kind == \"db.query\"\n  by = [person]\n  window = \"999ms\"\n  limit = 1\n}\n",
			`t.hcl:5:12: error: Invalid duration; window must be between 1s and 366d, not 999ms.`},
		{"window as a number", "threshold \"t\" {\n  severity = \"low\"\n  when = kind == \"db.query\"\n  by = [person]\n  window = 3600\n  limit = 1\n}\n",
			`t.hcl:5:12: error: Invalid duration; window must be a constant string.`},
		{"cooldown without a unit", thresholdWith("  limit = 1\n  cooldown = \"10\"\n"),
			`t.hcl:7:14: error: Invalid duration; "10" is not a duration like 90s, 15m, 8h or 7d.`},
	})
	// A variable is a constant.
	loadOne(t, "variable \"w\" {\n  default = \"2h\"\n}\n"+
		"threshold \"t\" {\n  severity = \"low\"\n  when = kind == \"db.query\"\n  by = [person]\n  window = var.w\n  limit = 1\n}\n")
}

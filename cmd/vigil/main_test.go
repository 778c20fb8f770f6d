package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

const packDir = "../../rules/packs"

func TestDispatch(t *testing.T) {
	if code, _, stderr := runCLI("nope"); code != exitUsage || !strings.Contains(stderr, "unknown command") {
		t.Errorf("unknown command: %d %q", code, stderr)
	}
	if code, _, stderr := runCLI(); code != exitUsage || !strings.Contains(stderr, "rules ") {
		t.Errorf("no command: %d %q", code, stderr)
	}
	if code, stdout, _ := runCLI("version"); code != exitOK || !strings.HasPrefix(stdout, "vigil ") {
		t.Errorf("version: %d %q", code, stdout)
	}
	if code, _, _ := runCLI("rules", "lint", packDir); code != exitUsage {
		t.Errorf("unknown rules subcommand: %d", code)
	}
}

// Every command answers --help and help TOPIC on stdout with exit 0 and
// its own usage; a wrong flag, a missing argument or an unknown topic
// exits 2 naming what was wrong.
func TestHelpAndUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"-h"},
		{"help", "enrol"}, {"enrol", "--help"}, {"enrol", "-h"},
		{"help", "alerts", "close"}, {"alerts", "close", "--help"},
		{"help", "rules", "test"}, {"rules", "test", "-h"},
		{"help", "agents", "list"}, {"help", "loss"}, {"loss", "--help"},
	} {
		code, stdout, stderr := runCLI(args...)
		want := "vigil"
		switch args[len(args)-1] {
		case "enrol":
			want = "--site"
		case "close":
			want = "--reason"
		case "test":
			want = "--run"
		case "list":
			want = "--json"
		case "loss":
			want = "--agent"
		}
		if len(args) > 1 && strings.HasPrefix(args[1], "-") {
			want = map[string]string{"enrol": "--site", "alerts": "--reason", "rules": "--run", "loss": "--agent"}[args[0]]
		}
		if code != exitOK || !strings.Contains(stdout, "Usage:") || !strings.Contains(stdout, want) {
			t.Errorf("vigil %s: exit %d, want 0 and usage with %q on stdout; stdout %q stderr %q", strings.Join(args, " "), code, want, stdout, stderr)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "nope"}, `"nope"`},
		{[]string{"help", "alerts", "nope"}, `"alerts nope"`},
		{[]string{"rules", "check", "--nope", packDir}, "--nope"},
		{[]string{"alerts", "list", "--limitt", "3"}, "--limitt"},
		{[]string{"enrol", "--site"}, "site"},
		{[]string{"alerts", "show"}, "accepts 1 arg"},
		{[]string{"alerts", "nope"}, `"nope"`},
		{[]string{"alerts"}, "Usage:"},
		{[]string{"rules", "check"}, "requires at least 1 arg"},
		{[]string{"loss", "extra"}, `"extra"`},
	} {
		code, stdout, stderr := runCLI(c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("vigil %s: exit %d, want 2 and %q on stderr; stdout %q stderr %q", strings.Join(c.args, " "), code, c.want, stdout, stderr)
		}
	}
}

// The flag package's single-dash long flags (-json, -check) still work.
func TestSingleDashLongFlags(t *testing.T) {
	code, stdout, stderr := runCLI("rules", "check", "-json", packDir)
	var res checkJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != exitOK || !res.OK {
		t.Fatalf("rules check -json: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if code, stdout, stderr := runCLI("rules", "test", "-v", "-run=^queries at night", packDir); code != exitOK || !strings.Contains(stdout, "ok ") {
		t.Errorf("rules test -v -run=: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestRulesCheckAndTestThePack(t *testing.T) {
	code, stdout, _ := runCLI("rules", "check", packDir)
	if code != exitOK || !strings.Contains(stdout, "ok: ") {
		t.Fatalf("check: %d\n%s", code, stdout)
	}
	code, stdout, _ = runCLI("rules", "test", packDir, "--json")
	var res testJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("test --json: %v\n%s", err, stdout)
	}
	if code != exitOK || !res.OK || res.Failed != 0 || res.Passed < 20 || len(res.Untested) != 0 {
		t.Fatalf("test: %d %+v", code, res)
	}
}

func writeFile(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRulesCheckReportsPositions(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "bad.hcl", "rule \"r\" {\n  severity = \"high\"\n  when     = kind == \"db.query\" && db.rowz > 1\n}\n")
	code, stdout, _ := runCLI("rules", "check", p)
	if code != exitFail || !strings.Contains(stdout, "Did you mean \"db.rows\"?") || !strings.Contains(stdout, "line 3") {
		t.Fatalf("check: %d\n%s", code, stdout)
	}
	code, stdout, _ = runCLI("rules", "check", "--json", dir)
	var res checkJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if code != exitFail || res.OK || len(res.Diagnostics) != 1 {
		t.Fatalf("check --json: %d %+v", code, res)
	}
	if d := res.Diagnostics[0]; d.File != p || d.Line != 3 || d.Column != 36 || d.Severity != "error" {
		t.Errorf("diagnostic: %+v", d)
	}
}

func TestRulesTestReportsFailures(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "r.hcl", `rule "dump" {
  severity = "high"
  when     = kind == "process.exec" && process.comm == "pg_dump"
}

test "mysqldump too" {
  events = [{ kind = "process.exec", process = { comm = "mysqldump" } }]
  expect "dump" { count = 1 }
}
`)
	code, stdout, _ := runCLI("rules", "test", dir)
	if code != exitFail || !strings.Contains(stdout, "FAIL  mysqldump too") ||
		!strings.Contains(stdout, "rule dump: expected 1 alert(s), got 0") {
		t.Fatalf("test: %d\n%s", code, stdout)
	}
}

func TestRulesFmt(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "r.hcl", "rule \"r\" {\nseverity=\"high\"\n  when = kind == \"db.query\"\n}\n")
	code, stdout, _ := runCLI("rules", "fmt", "-check", dir)
	if code != exitFail || !strings.Contains(stdout, "not formatted: "+p) {
		t.Fatalf("fmt -check: %d %q", code, stdout)
	}
	if code, _, _ := runCLI("rules", "fmt", dir); code != exitOK {
		t.Fatalf("fmt: %d", code)
	}
	got, _ := os.ReadFile(p)
	if !strings.Contains(string(got), "  severity = \"high\"\n  when     = kind") {
		t.Fatalf("not formatted:\n%s", got)
	}
	code, stdout, _ = runCLI("rules", "fmt", "-check", "--json", dir)
	var res fmtJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != exitOK || !res.OK || len(res.Changed) != 0 {
		t.Fatalf("fmt -check after fmt: %d %s", code, stdout)
	}
	if code, _, _ := runCLI("rules", "fmt", "-check", packDir); code != exitOK {
		t.Errorf("the default pack is not formatted")
	}
	// Broken syntax is reported, not formatted.
	writeFile(t, dir, "broken.hcl", "rule \"r\" {\n")
	if code, _, _ := runCLI("rules", "fmt", dir); code != exitFail {
		t.Errorf("fmt of broken syntax: %d", code)
	}
}

// The package installs these: a man page for vigil and each subcommand,
// and completions that know the subcommands and flags.
func TestManPagesAndCompletions(t *testing.T) {
	t.Setenv("VIGIL_API", "http://builder.example:8080")
	dir := t.TempDir()
	if code, _, stderr := runCLI("gendocs", dir); code != exitOK {
		t.Fatalf("gendocs: exit %d: %s", code, stderr)
	}
	for _, f := range []string{"man/vigil.1", "man/vigil-alerts-list.1", "man/vigil-rules-test.1", "man/vigil-enrol.1", "man/vigil-loss.1"} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || !strings.Contains(string(b), ".TH ") {
			t.Errorf("%s: %v\n%s", f, err, b)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "man/vigil-alerts-list.1")); strings.Contains(string(b), "builder.example") {
		t.Error("the man page carries the $VIGIL_API of whoever generated it")
	}
	if _, err := os.Stat(filepath.Join(dir, "man/vigil-gendocs.1")); err == nil {
		t.Error("the hidden gendocs command has a man page")
	}
	code, stdout, _ := runCLI("__complete", "alerts", "close", "x", "--reason", "")
	if code != exitOK || !strings.Contains(stdout, "false_positive") {
		t.Errorf("completing --reason: %d %q", code, stdout)
	}
	if code, stdout, _ := runCLI("__complete", "help", "al"); code != exitOK || !strings.Contains(stdout, "alerts") {
		t.Errorf("completing help al: %d %q", code, stdout)
	}
}

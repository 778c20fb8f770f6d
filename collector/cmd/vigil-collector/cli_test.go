package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/internal/cli"
)

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := cli.Execute(rootCommand(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// --help and help TOPIC print that command's usage on stdout and exit 0;
// a wrong flag, a stray argument or an unknown topic exits 2 naming it,
// before anything starts.
func TestHelpAndUsageErrors(t *testing.T) {
	for args, want := range map[string]string{
		"--help": "token", "help": "user", "-h": "run",
		"help run": "--nats-listen", "run --help": "--retain-alerts", "run -h": "--ocsf-syslog",
		"help token add": "--role", "token add --help": "--data", "help user": "remove", "user --help": "add", "help checkpoint-key": "--data",
	} {
		code, stdout, stderr := runCLI(strings.Fields(args)...)
		if code != cli.ExitOK || !strings.Contains(stdout, "Usage:") || !strings.Contains(stdout, want) {
			t.Errorf("vigil-collector %s: exit %d, want 0 and usage with %q; stdout %q stderr %q", args, code, want, stdout, stderr)
		}
	}
	for args, want := range map[string]string{
		"help nope": `"nope"`, "nope": `"nope"`, "run --nats-lisen x": "--nats-lisen", "run extra": `"extra"`,
		"run --replicas three": "three", "token": "Usage:", "token add": "accepts 1 arg", "token mint x": `"mint"`,
		"user list extra": `"extra"`, "": "Usage:", "checkpoint-key extra": `"extra"`,
	} {
		code, stdout, stderr := runCLI(strings.Fields(args)...)
		if code != cli.ExitUsage || !strings.Contains(stderr, want) {
			t.Errorf("vigil-collector %s: exit %d, want 2 and %q on stderr; stdout %q stderr %q", args, code, want, stdout, stderr)
		}
	}
	if code, stdout, _ := runCLI("version"); code != cli.ExitOK || !strings.HasPrefix(stdout, "vigil-collector ") {
		t.Errorf("version: %d %q", code, stdout)
	}
}

// token and user keep their command lines: NAME, then --role and --data
// (also in the flag package's single-dash form).
func TestTokenAndUser(t *testing.T) {
	data := t.TempDir()
	code, stdout, stderr := runCLI("token", "add", "grafana", "--role", "metrics", "-data", data)
	if code != cli.ExitOK || strings.TrimSpace(stdout) == "" {
		t.Fatalf("token add: exit %d, stdout %q stderr %q", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI("token", "list", "--data", data); code != cli.ExitOK || !strings.Contains(stdout, "grafana") || !strings.Contains(stdout, "metrics") {
		t.Errorf("token list: exit %d, stdout %q stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := runCLI("token", "revoke", "grafana", "--data", data); code != cli.ExitOK {
		t.Errorf("token revoke: exit %d %q", code, stderr)
	}
	if code, stdout, stderr := runCLI("user", "add", "ana", "--data", data); code != cli.ExitOK || !strings.Contains(stdout, "password: ") {
		t.Errorf("user add: exit %d, stdout %q stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := runCLI("user", "add", "ben", "--role", "root", "--data", data); code != cli.ExitFail || stderr == "" {
		t.Errorf("user add --role root: exit %d %q", code, stderr)
	}
}

// run --config reads collector.hcl with the flags given over it, and a bad
// file stops run before anything starts, naming file:line:column.
func TestRunConfigFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.hcl")
	if err := os.WriteFile(bad, []byte("data_dir = \"/srv\"\nhttp {\n  listn = \"0.0.0.0:8080\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("run", "--config", bad, "--data", dir)
	if code != cli.ExitFail || !strings.Contains(stderr, bad+":3:3: Unsupported argument") || !strings.Contains(stderr, `"listen"`) {
		t.Errorf("run with a bad config: exit %d, stderr %q", code, stderr)
	}
	if code, stdout, stderr := runCLI("run", "--config", "../../../packaging/etc/collector.hcl", "--check"); code != cli.ExitOK || !strings.HasPrefix(stdout, "ok: ") {
		t.Errorf("run --check of the shipped collector.hcl: exit %d, %q %q", code, stdout, stderr)
	}
	good := filepath.Join(dir, "collector.hcl")
	if err := os.WriteFile(good, []byte("data_dir = \"/srv\"\nnats {\n  listen = \"0.0.0.0:4223\"\n}\nhttp {\n  listen = \"0.0.0.0:8443\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runCmd, _, err := rootCommand().Find([]string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	if err := runCmd.ParseFlags([]string{"--config", good, "--http", "127.0.0.1:9090"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := settings(good, nil, runCmd.Flags())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/srv" || cfg.NATS.Listen != "0.0.0.0:4223" || cfg.HTTP.Listen != "127.0.0.1:9090" {
		t.Errorf("file with --http over it: %+v", cfg)
	}
}

// Completion offers the roles a token may have.
func TestCompletesRoles(t *testing.T) {
	code, stdout, _ := runCLI("__complete", "token", "add", "grafana", "--role", "")
	if code != cli.ExitOK || !strings.Contains(stdout, "metrics") || !strings.Contains(stdout, "admin") {
		t.Errorf("completing --role: %d %q", code, stdout)
	}
}

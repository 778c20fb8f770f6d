package main

import (
	"bytes"
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
// before anything is loaded.
func TestHelpAndUsageErrors(t *testing.T) {
	for args, want := range map[string]string{
		"--help": "preflight", "help": "preflight", "-h": "preflight",
		"help run": "--stdout", "run --help": "--stdout", "run -h": "--pprof",
		"help preflight": "--timeout", "preflight --help": "--json",
	} {
		code, stdout, stderr := runCLI(strings.Fields(args)...)
		if code != cli.ExitOK || !strings.Contains(stdout, "Usage:") || !strings.Contains(stdout, want) {
			t.Errorf("vigil-agent %s: exit %d, want 0 and usage with %q; stdout %q stderr %q", args, code, want, stdout, stderr)
		}
	}
	for args, want := range map[string]string{
		"help nope": `"nope"`, "nope": `"nope"`, "run --stdot": "--stdot", "run extra": `"extra"`,
		"preflight --timeout soon": "soon", "": "Usage:",
	} {
		code, stdout, stderr := runCLI(strings.Fields(args)...)
		if code != cli.ExitUsage || !strings.Contains(stderr, want) {
			t.Errorf("vigil-agent %s: exit %d, want 2 and %q on stderr; stdout %q stderr %q", args, code, want, stdout, stderr)
		}
	}
	if code, stdout, _ := runCLI("version"); code != cli.ExitOK || !strings.HasPrefix(stdout, "vigil-agent ") {
		t.Errorf("version: %d %q", code, stdout)
	}
	// The flag package's single-dash form of a long flag still parses:
	// the stray argument, not -stdout, is what is refused.
	if code, _, stderr := runCLI("run", "-stdout", "extra"); code != cli.ExitUsage || !strings.Contains(stderr, `"extra"`) {
		t.Errorf("run -stdout extra: exit %d, stderr %q", code, stderr)
	}
}

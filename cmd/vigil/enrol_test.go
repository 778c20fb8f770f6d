package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --out - prints the credentials alone on stdout (for a pipe or a
// configuration tool), a device such as /dev/null is written to, and an
// existing regular file is never overwritten.
func TestEnrolOutputs(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := runCLI("enrol", "--data", data, "--site", "leeds", "--host", "ws-1", "--out", "-")
	if code != exitOK || !strings.HasPrefix(out, "# vigil agent key") || !strings.Contains(out, "\nSU") {
		t.Fatalf("--out -: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "enrolled agent ") || !strings.Contains(errOut, "agent_id = ") {
		t.Errorf("--out -: what was done is not on stderr: %q", errOut)
	}
	if code, _, errOut := runCLI("enrol", "--data", data, "--site", "leeds", "--host", "ws-2", "--out", os.DevNull); code != exitOK {
		t.Errorf("--out %s: exit %d: %s", os.DevNull, code, errOut)
	}
	existing := filepath.Join(t.TempDir(), "ws-3.creds")
	if err := os.WriteFile(existing, []byte("another agent's seed"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI("enrol", "--data", data, "--site", "leeds", "--host", "ws-3", "--out", existing); code != exitFail || !strings.Contains(errOut, "exists") {
		t.Errorf("--out over a file: exit %d: %s", code, errOut)
	}
	if b, _ := os.ReadFile(existing); string(b) != "another agent's seed" {
		t.Errorf("the existing file was overwritten: %q", b)
	}
}

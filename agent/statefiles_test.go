package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAgentIDIsKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	id, err := LoadAgentID(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "ag-") || len(id) != 27 {
		t.Errorf("id %q", id)
	}
	again, err := LoadAgentID(dir)
	if err != nil || again != id {
		t.Errorf("second load = %q, %v; want %q", again, err, id)
	}
	if st, err := os.Stat(filepath.Join(dir, "agent-id")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("agent-id file: %v %v", st.Mode(), err)
	}
	os.WriteFile(filepath.Join(dir, "agent-id"), []byte("\n"), 0o600)
	if _, err := LoadAgentID(dir); err == nil {
		t.Error("an empty id file was accepted")
	}
}

func TestDeploymentKey(t *testing.T) {
	dir := t.TempDir()
	k, shared, err := LoadDeploymentKey("", dir)
	if err != nil || shared || len(k) != 64 {
		t.Fatalf("host key = %q shared=%v err=%v", k, shared, err)
	}
	k2, _, _ := LoadDeploymentKey("", dir)
	if string(k2) != string(k) {
		t.Error("host key changed between loads")
	}
	file := filepath.Join(dir, "deployment.key")
	os.WriteFile(file, []byte("short\n"), 0o600)
	if _, _, err := LoadDeploymentKey(file, dir); err == nil {
		t.Error("a 5-byte key was accepted")
	}
	os.WriteFile(file, []byte("0123456789abcdef0123\n"), 0o600)
	if k, shared, err := LoadDeploymentKey(file, dir); err != nil || !shared || string(k) != "0123456789abcdef0123" {
		t.Errorf("deployment key = %q shared=%v err=%v", k, shared, err)
	}
	if _, _, err := LoadDeploymentKey(filepath.Join(dir, "missing.key"), dir); err == nil {
		t.Error("a missing deployment key file was accepted")
	}
}

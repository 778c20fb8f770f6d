package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/sensor/sensortest"
	"github.com/vigilhq/vigil/internal/testkernel"
)

func buildAgent(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vigil-agent")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	return bin
}

// SIGTERM detaches every probe: after the agent exits, none of its programs
// is left in the kernel.
func TestSIGTERMDetachesEverything(t *testing.T) {
	testkernel.RequireRoot(t)
	bin := buildAgent(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agent.hcl")
	if err := os.WriteFile(cfg, []byte(`site = "t"
state_dir = "`+dir+`"
rules_dir = "`+dir+`/no-rules"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg, "--stdout")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until every sensor reports running.
	running := map[string]bool{}
	sc := bufio.NewScanner(stderr)
	for len(running) < 4 && sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, `msg="sensor running" sensor=`); i >= 0 {
			running[line[i+len(`msg="sensor running" sensor=`):]] = true
		}
		if strings.Contains(line, "cannot run") {
			t.Errorf("agent: %s", line)
		}
	}
	if len(running) < 4 {
		t.Fatalf("agent ended with only %v running", running)
	}
	ids := sensortest.ProgramsOf(t, cmd.Process.Pid)
	if len(ids) < 20 {
		t.Fatalf("agent running with all sensors but holding only %d programs", len(ids))
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	detached := false
	for sc.Scan() {
		detached = detached || strings.Contains(sc.Text(), "probes detached")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("agent exit after SIGTERM: %v", err)
	}
	if !detached {
		t.Error(`agent exited without logging "probes detached"`)
	}
	// The kernel frees a program after its last reference goes, in deferred
	// work: poll for that, with a deadline.
	deadline := time.Now().Add(15 * time.Second)
	for {
		left := sensortest.Loaded(ids)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("programs %v still loaded 15 s after the agent exited", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Without privileges, preflight says what is missing for each sensor and
// fails.
func TestPreflightUnprivileged(t *testing.T) {
	testkernel.RequireRoot(t) // to switch to an unprivileged user
	bin := buildAgent(t)
	for dir := filepath.Dir(bin); dir != os.TempDir(); dir = filepath.Dir(dir) {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "preflight", "--config", "/dev/null")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("preflight passed as nobody: %s", out)
	}
	text := string(out)
	for _, want := range []string{"FAIL privileges", "running as uid 65534", "sensor process    cannot run", "sensor file       cannot run"} {
		if !strings.Contains(text, want) {
			t.Errorf("preflight output lacks %q:\n%s", want, text)
		}
	}
}

// As root every sensor can run here, and the two with two builds say which
// one preflight loaded.
func TestPreflightNamesBuilds(t *testing.T) {
	testkernel.RequireRoot(t)
	// /dev/null has no collector block and no rules: preflight fails for
	// those and still says what each sensor would do.
	out, err := exec.Command(buildAgent(t), "preflight", "--config", "/dev/null").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("preflight of an empty config: %v, want exit 1: %s", err, out)
	}
	text := string(out)
	for _, name := range []string{"net", "db"} {
		if !strings.Contains(text, fmt.Sprintf("sensor %-10s can run (default build)", name)) &&
			!strings.Contains(text, fmt.Sprintf("sensor %-10s can run (compat build)", name)) {
			t.Errorf("preflight does not say which build of %s runs:\n%s", name, text)
		}
	}
	if !strings.Contains(text, "sensor process    can run\n") {
		t.Errorf("preflight output:\n%s", text)
	}
}

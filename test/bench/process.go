package main

import (
	"context"
	"fmt"
	"log"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vigilhq/vigil/internal/testproc"
)

// startProc runs name, as cred when set, logging to logPath. Its own
// process group keeps a Ctrl-C from reaching it, so the bench stops it in
// order (auditd's rules removed, the agent's probes detached).
func startProc(cred *syscall.Credential, logPath, name string, args ...string) (*testproc.Proc, error) {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	return testproc.Start(cmd, logPath)
}

// stop sends sig and kills the process if it has not exited within grace,
// saying so.
func stop(p *testproc.Proc, sig syscall.Signal, grace time.Duration) {
	if p.Stop(sig, grace) {
		log.Printf("%s did not stop within %s of %s: killing it", p.Name, grace, sig)
	}
}

// run runs a command to its end and returns its output.
func run(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, testproc.Tail(string(out), 1000))
	}
	return string(out), nil
}

// sleep waits d, the length of a measurement's phase, unless ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

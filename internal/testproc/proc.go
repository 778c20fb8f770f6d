package testproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

const (
	// readyEvery is how often a starting process is asked whether it is ready.
	readyEvery = 50 * time.Millisecond
	// stopGrace is how long a process that never got ready has to exit
	// on SIGTERM before it is killed.
	stopGrace = 10 * time.Second
)

// Proc is a child process whose stdout and stderr go to a log file.
type Proc struct {
	// Name is the program's name, for messages.
	Name    string
	Cmd     *exec.Cmd
	LogPath string
	done    chan struct{}
}

// Start runs cmd with its output written to a new file at logPath.
func Start(cmd *exec.Cmd, logPath string) (*Proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	name := filepath.Base(cmd.Args[0])
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Proc{Name: name, Cmd: cmd, LogPath: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // how it ended is in p.Cmd.ProcessState
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Done is closed once the process has exited and been waited for.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited says whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Log returns what the process has written so far.
func (p *Proc) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// Signal sends sig unless the process has exited.
func (p *Proc) Signal(sig os.Signal) {
	if !p.Exited() {
		_ = p.Cmd.Process.Signal(sig) // fails only if it has just exited
	}
}

// Stop sends sig and waits for the process to exit, for at most grace
// (0: however long it takes) before killing it; it says whether it had to.
func (p *Proc) Stop(sig os.Signal, grace time.Duration) (killed bool) {
	if p == nil || p.Exited() {
		return false
	}
	p.Signal(sig)
	if grace <= 0 {
		<-p.done
		return false
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return false
	case <-t.C:
		_ = p.Cmd.Process.Kill() // fails only if it has just exited
		<-p.done
		return true
	}
}

var errExited = errors.New("process exited")

// WaitFor polls ready until it returns nil, for at most wait. It gives up
// as soon as the process exits, and its errors end with the log's tail.
func (p *Proc) WaitFor(ctx context.Context, wait time.Duration, ready func() error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-p.done:
			cancel(errExited)
		case <-ctx.Done():
		}
	}()
	err := Poll(ctx, wait, readyEvery, ready)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errExited):
		return fmt.Errorf("%s exited before it was ready; its log ends:\n%s", p.Name, Tail(p.Log(), 2000))
	default:
		return fmt.Errorf("%s not ready: %w; its log ends:\n%s", p.Name, err, Tail(p.Log(), 2000))
	}
}

// WaitLog waits, as WaitFor, until ready holds for the log so far.
func (p *Proc) WaitLog(ctx context.Context, wait time.Duration, ready func(log string) bool) error {
	return p.WaitFor(ctx, wait, func() error {
		if ready(p.Log()) {
			return nil
		}
		return errors.New("no ready line in its log")
	})
}

// KillAtCleanup kills the process when the test ends and, if the test
// failed, logs the end of its log.
func (p *Proc) KillAtCleanup(tb testing.TB) {
	tb.Helper()
	tb.Cleanup(func() {
		tb.Helper()
		p.Stop(syscall.SIGKILL, 0)
		if tb.Failed() {
			tb.Logf("%s log:\n%s", p.Name, Tail(p.Log(), 4000))
		}
	})
}

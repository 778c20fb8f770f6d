package main

import (
	"bufio"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigilhq/vigil/internal/testproc"
)

// auditd is Linux auditd with rules for what vigil watches.
type auditd struct {
	proc *testproc.Proc
	dir  string
}

// auditRules ask auditd for the activity vigil's sensors report: program
// starts, opens with write intent (and the other write-class calls auditd's
// perm=w covers: creat, truncate, rename, unlink, ...), and connects.
var auditRules = [][]string{
	{"-a", "always,exit", "-F", "arch=b64", "-S", "execve,execveat", "-k", "vigil_bench_exec"},
	{"-a", "always,exit", "-F", "arch=b64", "-F", "perm=wa", "-k", "vigil_bench_write"},
	{"-a", "always,exit", "-F", "arch=b64", "-S", "connect", "-k", "vigil_bench_connect"},
}

func auditRulesText() string {
	var lines []string
	for _, r := range auditRules {
		lines = append(lines, "auditctl "+strings.Join(r, " "))
	}
	return strings.Join(lines, "\n")
}

func (b *bench) startAuditd() (*auditd, error) {
	if out, _ := run("auditctl", "-s"); regexp.MustCompile(`(?m)^pid [1-9]`).MatchString(out) {
		return nil, errors.New("an auditd is already running: stop it first (its rules would mix with the bench's)")
	}
	dir := filepath.Join(b.tmp, "audit")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	conf, err := os.ReadFile("/etc/audit/auditd.conf")
	if err != nil {
		return nil, err
	}
	logFile := filepath.Join(dir, "audit.log")
	var lines []string
	for _, l := range strings.Split(string(conf), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "log_file") {
			l = "log_file = " + logFile
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(filepath.Join(dir, "auditd.conf"), []byte(strings.Join(lines, "\n")), 0o640); err != nil {
		return nil, err
	}
	p, err := startProc(nil, filepath.Join(b.tmp, fmt.Sprintf("auditd-%d.log", time.Now().UnixNano())), "auditd", "-n", "-c", dir)
	if err != nil {
		return nil, err
	}
	a := &auditd{proc: p, dir: dir}
	err = p.WaitFor(b.ctx, 20*time.Second, func() error {
		out, _ := run("auditctl", "-s")
		if !strings.Contains(out, fmt.Sprintf("pid %d", p.Pid())) {
			return fmt.Errorf("auditctl -s names no auditd pid %d", p.Pid())
		}
		return nil
	})
	if err != nil {
		a.stop()
		return nil, fmt.Errorf("auditd did not register with the kernel: %w", err)
	}
	// Debian's audit.rules defaults: a deep backlog, waiting rather than
	// dropping, printk on failure.
	setup := [][]string{{"-D"}, {"-b", "8192"}, {"--backlog_wait_time", "60000"}, {"-f", "1"}}
	setup = append(setup, auditRules...)
	setup = append(setup, []string{"-e", "1"})
	for _, args := range setup {
		if _, err := run("auditctl", args...); err != nil {
			a.stop()
			return nil, err
		}
	}
	return a, nil
}

var auditLostRe = regexp.MustCompile(`(?m)^lost (\d+)`)

func auditLost() uint64 {
	out, _ := run("auditctl", "-s")
	m := auditLostRe.FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	return n
}

// stop disables auditing, removes the rules and stops the daemon, leaving
// the kernel as it was found (auditing off, no rules).
func (a *auditd) stop() (records int) {
	if a == nil {
		return 0
	}
	for _, args := range [][]string{{"-e", "0"}, {"-D"}} {
		if _, err := run("auditctl", args...); err != nil {
			log.Printf("warning: auditd's rules may outlive the run: %v", err)
		}
	}
	stop(a.proc, syscall.SIGTERM, 20*time.Second)
	logs, _ := filepath.Glob(filepath.Join(a.dir, "audit.log*")) // rotated ones too
	for _, l := range logs {
		records += countLines(l, "type=SYSCALL")
		os.Remove(l)
	}
	return records
}

func countLines(path, substr string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			n++
		}
	}
	return n
}

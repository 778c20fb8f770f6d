package main

import (
	"log"
	"os"
	"os/exec"
	"os/user"
	"slices"
	"strings"
)

// requirement is one thing a figure needs, and the Debian package that
// provides it ("" when no package does).
type requirement struct {
	what, pkg string
	ok        func() bool
}

func onPath(name string) func() bool {
	return func() bool { _, err := exec.LookPath(name); return err == nil }
}

func exists(path string) func() bool {
	return func() bool { _, err := os.Stat(path); return err == nil }
}

// requirements lists what the figures in o need.
func requirements(o options) []requirement {
	rs := []requirement{
		{"root: the agent loads eBPF programs and auditd needs CAP_AUDIT_CONTROL (sudo make bench)", "",
			func() bool { return os.Geteuid() == 0 }},
		{"go: the driver builds the binaries it measures", "", onPath("go")},
	}
	if o.figures["1"] {
		rs = append(rs,
			requirement{"PostgreSQL server and pgbench", "postgresql postgresql-contrib",
				func() bool { return pgBin("initdb") != "" && pgBin("postgres") != "" && pgBin("pgbench") != "" }},
			requirement{"a postgres user to run the server as", "postgresql",
				func() bool { _, err := user.Lookup("postgres"); return err == nil }})
	}
	if o.figures["1"] || o.figures["2"] || o.figures["3"] {
		rs = append(rs, requirement{"bpftool (reads the agent's in-kernel loss counters)", "bpftool", onPath("bpftool")})
	}
	if o.figures["1"] || o.figures["3"] || o.figures["5"] || o.figures["6"] {
		rs = append(rs, requirement{"curl (fetches the agent's CPU profiles)", "curl", onPath("curl")})
	}
	if o.figures["1"] || o.figures["2"] {
		rs = append(rs,
			requirement{"auditd and auditctl (the auditd set-up)", "auditd", func() bool { return onPath("auditd")() && onPath("auditctl")() }},
			requirement{"/etc/audit/auditd.conf (the auditd set-up starts from it)", "auditd", exists("/etc/audit/auditd.conf")},
			requirement{"nice (the collector kept apart runs niced)", "coreutils", onPath("nice")})
	}
	if o.figures["1"] {
		rs = append(rs, requirement{"a cgroup hierarchy that measures CPU (the collector kept apart is measured in its own)", "",
			func() bool { _, _, err := cgroupRoot(); return err == nil }})
	}
	return rs
}

// missing names each requirement not met, with the package to install.
func missing(rs []requirement) (lines, pkgs []string) {
	for _, r := range rs {
		if r.ok() {
			continue
		}
		if r.pkg == "" {
			lines = append(lines, r.what)
			continue
		}
		lines = append(lines, r.what+": apt-get install "+r.pkg)
		for _, p := range strings.Fields(r.pkg) {
			if !slices.Contains(pkgs, p) {
				pkgs = append(pkgs, p)
			}
		}
	}
	return lines, pkgs
}

// checkPrerequisites installs the missing packages when o.install allows
// it and apt-get is there (as root), then names what is still missing.
func checkPrerequisites(o options) []string {
	rs := requirements(o)
	lines, pkgs := missing(rs)
	if len(pkgs) == 0 || !o.install || os.Geteuid() != 0 || !onPath("apt-get")() {
		return lines
	}
	log.Printf("installing what the bench needs: apt-get install %s", strings.Join(pkgs, " "))
	args := append([]string{"install", "-y", "-qq", "--no-install-recommends"}, pkgs...)
	if out, err := aptGet(args...); err != nil {
		// A machine that never fetched the package lists cannot find them.
		log.Printf("apt-get install failed, updating the package lists and trying again: %s", strings.TrimSpace(out))
		if out, err := aptGet("update", "-qq"); err != nil {
			log.Printf("apt-get update: %v: %s", err, strings.TrimSpace(out))
		} else if out, err := aptGet(args...); err != nil {
			log.Printf("apt-get install: %v: %s", err, strings.TrimSpace(out))
		}
	}
	lines, _ = missing(rs)
	return lines
}

func aptGet(args ...string) (string, error) {
	cmd := exec.Command("apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

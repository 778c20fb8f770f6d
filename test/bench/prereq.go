package main

import (
	"os"
	"os/exec"
	"os/user"
)

// checkPrerequisites names what is missing and how to install it.
func checkPrerequisites(o options) []string {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root: the agent loads eBPF programs and auditd needs CAP_AUDIT_CONTROL (sudo make bench)")
	}
	if _, err := exec.LookPath("go"); err != nil {
		missing = append(missing, "go: the driver builds the binaries it measures")
	}
	if o.figures["1"] {
		if pgBin("initdb") == "" || pgBin("postgres") == "" || pgBin("pgbench") == "" {
			missing = append(missing, "PostgreSQL server and pgbench: apt-get install postgresql postgresql-contrib")
		}
		if _, err := user.Lookup("postgres"); err != nil && os.Geteuid() == 0 {
			missing = append(missing, "a postgres user to run the server as (created by apt-get install postgresql)")
		}
	}
	if o.figures["1"] || o.figures["2"] || o.figures["3"] {
		if _, err := exec.LookPath("bpftool"); err != nil {
			missing = append(missing, "bpftool (reads the agent's in-kernel loss counters): apt-get install bpftool")
		}
	}
	if _, err := exec.LookPath("curl"); err != nil && (o.figures["5"] || o.figures["6"]) {
		missing = append(missing, "curl (fetches the agent's CPU profiles): apt-get install curl")
	}
	if o.figures["1"] || o.figures["2"] {
		for _, b := range []string{"auditd", "auditctl"} {
			if _, err := exec.LookPath(b); err != nil {
				missing = append(missing, b+": apt-get install auditd")
				break
			}
		}
		if _, err := os.Stat("/etc/audit/auditd.conf"); err != nil {
			missing = append(missing, "/etc/audit/auditd.conf: apt-get install auditd")
		}
		if _, err := exec.LookPath("nice"); err != nil {
			missing = append(missing, "nice: apt-get install coreutils")
		}
	}
	return missing
}

// Command bench measures what vigil costs the workstation it watches and how
// much it keeps up with, beside no monitor and beside Linux auditd, and
// writes docs/benchmarks.md and docs/benchmarks.csv (make bench). That file
// says how each figure is measured and what the last run found.
//
// It needs root and, on Debian 12,
//
//	apt-get install postgresql postgresql-contrib auditd bpftool curl
//
// which it installs itself when they are missing (-install=false names
// them instead), and a cgroup hierarchy that measures CPU (cpuacct or
// cgroup2), for the collector it keeps apart. It names what is still
// missing before anything runs. It builds the binaries it
// measures, and starts PostgreSQL, auditd (with its own config, restoring
// the kernel's audit state afterwards), vigil-collector and vigil-agent
// itself, one file per process here.
//
// Usage, from the repository root:
//
//	go run ./test/bench                                      every figure, writes docs/ (~30 min)
//	go run ./test/bench -figures 3 -reps 1 -out /tmp/bench   one figure, once, elsewhere
//
// The report's words are in benchmarks.md.tmpl and closers.md.tmpl;
// report_test.go renders fixed figures against testdata/ (-update rewrites it).
package main

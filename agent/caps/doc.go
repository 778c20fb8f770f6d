// Package caps drops the Linux capabilities vigil-agent holds once its eBPF
// programs are loaded and attached, so that a compromised agent holds only
// what reading /proc takes.
//
// Capabilities are per thread in Linux, and a Go program runs on many
// threads. This package uses libcap's cap package, whose psx mechanism makes
// every capset and prctl happen on all threads of the process (with or
// without cgo); golang.org/x/sys/unix only offers the per-thread system
// calls. Drop then reads every thread's /proc/self/task/<tid>/status to
// prove the result rather than trusting the calls.
//
// What each capability is for was measured on kernel 6.18 by running the
// agent's sensors under `setpriv --bounding-set=-all,+...` with one
// capability taken away at a time (packaging/README.md has the table).
package caps

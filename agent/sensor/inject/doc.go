// Package inject writes synthetic file.write records into a running
// vigil-agent's ring buffer, for benchmarks: the agent is not built with it.
//
// Real syscalls cost the machine more than the agent's work on the records
// they produce (on 2 cores a file-writing load generator tops out well below
// what the agent reads), so a benchmark that wants the agent's own limit, from
// the ring through decoding, rules and publishing to the collector, needs a
// cheaper source. An Injector is one: a BPF program, run by
// BPF_PROG_TEST_RUN, that copies a record filled here into the agent's ring
// the way the file sensor submits one (bpf/inject.bpf.c), numbering each.
package inject

// loadgen produces host activity at a set rate for vigil's benchmarks:
// small file writes (one file.write event per file closed) or short TCP
// connections. Several workers share the rate so one generator can outrun
// a single core. Mode ring skips the syscalls: it injects file.write
// records straight into a running agent's ring buffer (agent/sensor/inject),
// to find the agent's own limit.
package main

package main

import (
	"strconv"
	"time"
)

// Figure 3's two sources of load.
const (
	// srcFiles: loadgen writes real files; every event costs the machine
	// its syscalls and the file sensor's probes beside the agent's work.
	srcFiles = "files"
	// srcRing: file.write records injected into the agent's ring by a BPF
	// program (loadgen -mode ring, agent/sensor/inject), so the load
	// generator's syscalls do not take the cores the agent, NATS and the
	// collector need.
	srcRing = "ring"
)

// offer loads the agent running as pid at rate events/s for d from src,
// with loadgen. For the ring, the result's ringFull counts the records
// that found it full (the agent's own drops maps count the sensors').
func (b *bench) offer(src string, pid, rate int, d time.Duration) (loadgenResult, error) {
	args := []string{"-mode", "files", "-dir", "/dev/shm", "-workers", "2"}
	if src == srcRing {
		args = []string{"-mode", "ring", "-pid", strconv.Itoa(pid)}
	}
	return b.loadgen(append(args, "-rate", strconv.Itoa(rate), "-duration", d.String())...)
}

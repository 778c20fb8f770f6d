package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/vigilhq/vigil/agent/sensor/inject"
)

// Figure 3's two sources of load.
const (
	// srcFiles: loadgen writes real files; every event costs the machine
	// its syscalls and the file sensor's probes beside the agent's work.
	srcFiles = "files"
	// srcRing: file.write records injected into the agent's ring by a BPF
	// program (agent/sensor/inject), so the load generator's syscalls do not
	// take the cores the agent, NATS and the collector need.
	srcRing = "ring"
)

// injectPrefix is the path the injected records name, before their number.
const injectPrefix = "/dev/shm/vigil-bench-inject/f-"

// offer loads the agent running as pid at rate events/s for d from src. It
// returns what was offered, and the records the ring had no room for when
// the injector found it full (the agent's own drops maps count the
// sensors').
func (b *bench) offer(src string, pid, rate int, d time.Duration) (loadgenResult, uint64, error) {
	if src == srcFiles {
		r, err := b.loadgen("-mode", "files", "-dir", "/dev/shm", "-workers", "2", "-rate", strconv.Itoa(rate), "-duration", d.String())
		return r, 0, err
	}
	ring, err := inject.FindRing(pid)
	if err != nil {
		return loadgenResult{}, 0, err
	}
	defer ring.Close()
	in, err := inject.New(ring, inject.Self(injectPrefix))
	if err != nil {
		return loadgenResult{}, 0, err
	}
	defer in.Close()
	// Every millisecond, what the rate owes since the start: a late tick
	// makes up for itself at the next.
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	start := time.Now()
	sent := 0
	for now := start; now.Sub(start) < d; {
		select {
		case <-b.ctx.Done():
			return loadgenResult{}, 0, b.ctx.Err()
		case now = <-t.C:
		}
		due := int(float64(rate)*min(now.Sub(start), d).Seconds()) - sent
		if due > 0 {
			if err := in.Inject(due); err != nil {
				return loadgenResult{}, 0, err
			}
			sent += due
		}
	}
	el := time.Since(start)
	offered, err := in.Offered()
	if err != nil {
		return loadgenResult{}, 0, err
	}
	if offered != uint64(sent) {
		return loadgenResult{}, 0, fmt.Errorf("injector ran %d times for %d records", offered, sent)
	}
	drops, err := in.Drops()
	return loadgenResult{ops: int64(sent), rate: float64(sent) / el.Seconds()}, drops, err
}

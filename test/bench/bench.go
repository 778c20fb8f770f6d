package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/vigilhq/vigil/internal/testproc"
)

type bench struct {
	ctx         context.Context
	o           options
	tmp, bin    string
	site        string // the current collector's and agent's directory
	sites       int
	natsPort    int
	spoolMaxMiB int // agent spool bound for the next site (0: the default)
	creds       string
	agentConfig string
	pg          *postgres
	col         *collector
	agent       *agent
	audit       *auditd
	rep         *report
}

func (b *bench) packs() string { return filepath.Join(b.o.repo, "rules", "packs") }

func newBench(ctx context.Context, o options) (*bench, error) {
	tmp, err := os.MkdirTemp("", "vigil-bench-")
	if err != nil {
		return nil, err
	}
	// The postgres account reads its directory below this one.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	b := &bench{ctx: ctx, o: o, tmp: tmp, bin: filepath.Join(tmp, "bin"), rep: newReport(o)}
	log.Printf("building vigil-agent, vigil-collector, vigil and loadgen into %s", b.bin)
	build := exec.Command("go", "build", "-trimpath", "-o", b.bin+"/", "./agent/cmd/vigil-agent",
		"./collector/cmd/vigil-collector", "./cmd/vigil", "./test/loadgen")
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("building: %w\n%s", err, out)
	}
	// A program named like a dump tool: running it raises db_dump_tool.
	dump, err := os.ReadFile("/bin/true")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "pg_dump"), dump, 0o755); err != nil {
		return nil, err
	}
	return b, nil
}

// newSite makes a directory for a fresh collector (empty store, no
// backlog from earlier measurements) and enrols an agent with it.
func (b *bench) newSite() error {
	if b.site != "" && !b.o.keep {
		os.RemoveAll(b.site)
	}
	b.sites++
	b.site = filepath.Join(b.tmp, fmt.Sprintf("site-%03d", b.sites))
	if err := os.MkdirAll(b.site, 0o755); err != nil {
		return err
	}
	host, _ := os.Hostname()
	b.creds = filepath.Join(b.site, "agent.nk")
	if _, err := run(filepath.Join(b.bin, "vigil"), "enrol", "--data", filepath.Join(b.site, "collector"),
		"--site", "bench", "--host", host, "--agent-id", b.agentID(), "--out", b.creds); err != nil {
		return err
	}
	var err error
	if b.natsPort, err = testproc.FindFreePort(); err != nil {
		return err
	}
	return b.writeAgentConfig()
}

// startSite starts a fresh collector and an agent publishing to it.
func (b *bench) startSite(pprof bool) error {
	if err := b.newSite(); err != nil {
		return err
	}
	var err error
	if b.col, err = b.startCollector(false); err != nil {
		return err
	}
	b.agent, err = b.startAgent(pprof)
	return err
}

// stopSite stops the agent and then the collector.
func (b *bench) stopSite() agentStopped {
	st := b.agent.stop()
	b.agent = nil
	b.col.stop()
	b.col = nil
	return st
}

func (b *bench) close() {
	if b.agent != nil {
		b.agent.stop()
	}
	if b.audit != nil {
		b.audit.stop()
	}
	b.col.stop()
	b.pg.stop()
	if b.o.keep {
		log.Printf("kept %s", b.tmp)
		return
	}
	os.RemoveAll(b.tmp)
}

func (b *bench) run() error {
	start := time.Now()
	b.rep.machine = describeMachine()
	if b.o.figures["1"] {
		log.Print("starting PostgreSQL and loading pgbench (scale 10)")
		var err error
		if b.pg, err = startPostgres(b.ctx, b.tmp); err != nil {
			return err
		}
		if _, err := run(pgBin("createdb"), "-h", "127.0.0.1", "-p", strconv.Itoa(b.pg.port), "-U", "postgres", "bench"); err != nil {
			return err
		}
		if _, err := run(pgBin("pgbench"), b.pg.pgbenchArgs("-i", "-q", "-s", "10", "bench")...); err != nil {
			return err
		}
	}
	steps := []struct {
		on bool
		fn func() error
	}{
		{b.o.figures["1"] || b.o.figures["2"], b.overheads},
		{b.o.figures["3"], b.pipeline},
		{b.o.figures["5"] || b.o.figures["6"], b.steady},
		{b.o.figures["4"], b.rulesBench},
	}
	for _, s := range steps {
		if !s.on {
			continue
		}
		if err := s.fn(); err != nil {
			return err
		}
		if err := b.ctx.Err(); err != nil {
			return err
		}
	}
	b.rep.machine.loadEnd = loadavg()
	b.rep.elapsed = time.Since(start)
	return b.rep.write(b.o.out)
}

// fixedRateShare is the part of the machine's no-monitor pgbench rate that
// the fixed-rate runs ask for: enough load to measure, with idle left so
// that a monitor's cost shows as CPU and latency, not as a lower rate.
const fixedRateShare = 0.7

// Figures 1 and 2: pgbench (as fast as it goes, then at a fixed rate), the
// write loop and the transfer loop with no monitor, with vigil-agent (its
// collector on the same host, then apart) and with auditd, in alternating
// rounds.
func (b *bench) overheads() error {
	if b.o.figures["1"] {
		tps, err := b.pg.pgbench(b.o.pgSeconds)
		if err != nil {
			return fmt.Errorf("measuring pgbench's rate with no monitor: %w", err)
		}
		b.rep.calibrationTPS, b.rep.fixedRate = tps, max(1, int(fixedRateShare*tps))
		log.Printf("pgbench with no monitor: %.0f tps; the fixed-rate runs ask for %d/s", tps, b.rep.fixedRate)
	}
	modes := []string{modeBaseline, modeAgent, modeAgentApart, modeAuditd}
	for round := 1; round <= b.o.reps; round++ {
		for _, mode := range modes {
			s, err := b.overheadRound(round, mode)
			if err != nil {
				return err
			}
			b.rep.overheads = append(b.rep.overheads, s)
			log.Printf("round %d %-11s pgbench %.0f tps, at %d/s: %.0f µs CPU/transaction, latency avg %.2f ms p99 %.2f ms; "+
				"write loop %.0f files/s, transfer loop %.0f conns/s %s",
				round, mode, s.tps, b.rep.fixedRate, s.cpuPerTx(), s.fixed.latAvgMs, s.fixed.latP99Ms, s.files, s.tcp, s.note())
		}
	}
	if b.o.figures["1"] {
		return b.pgbenchProfile()
	}
	return nil
}

func (b *bench) overheadRound(round int, mode string) (s overheadSample, err error) {
	// Named results: the deferred stops below record what they report.
	s = overheadSample{round: round, mode: mode}
	var apart *cgroup
	switch mode {
	case modeAgent, modeAgentApart:
		// A fresh collector each time, stopped with the agent, so no
		// backlog it still has to store steals CPU from the next set-up.
		// Apart, it is niced and in a cgroup of its own, its CPU taken
		// out of the machine's: a collector on another machine.
		if err := b.newSite(); err != nil {
			return s, err
		}
		if b.col, err = b.startCollector(mode == modeAgentApart); err != nil {
			return s, err
		}
		if mode == modeAgentApart {
			if apart, err = newCgroup(fmt.Sprintf("vigil-bench-collector-%d", b.sites), b.col.Pid()); err != nil {
				return s, err
			}
		}
		if b.agent, err = b.startAgent(false); err != nil {
			return s, err
		}
		pid := b.agent.Pid()
		defer func() {
			drops, derr := kernelDrops(pid)
			st := b.stopSite()
			b.rep.noteStop(st)
			s.agentEvents, s.agentDrops = st.events, drops
			if derr != nil && err == nil {
				err = fmt.Errorf("reading the agent's kernel drop counters: %w", derr)
			}
			if rerr := apart.remove(); rerr != nil {
				log.Printf("warning: %v", rerr)
			}
		}()
	case modeAuditd:
		s.auditLostBefore = auditLost()
		if b.audit, err = b.startAuditd(); err != nil {
			return s, err
		}
		defer func() {
			s.auditRecords = b.audit.stop()
			b.audit = nil
			s.auditLost = auditLost() - s.auditLostBefore
		}()
	}
	// With the agent, each workload also records the agent's CPU and the
	// collector's. Each workload starts once the collector has stored the
	// previous one's events (up to 30 s), so that its backlog does not run
	// into the next.
	var agentPid, colPid int
	if b.agent != nil {
		agentPid, colPid = b.agent.Pid(), b.col.Pid()
		s.measured = true
	}
	measure := func(i int, fn func() error) error {
		if agentPid == 0 {
			return fn()
		}
		if _, _, err := b.drain(b.col, time.Second, 30*time.Second); err != nil {
			return err
		}
		a0, errA := sampleProc(agentPid)
		c0, errC := sampleProc(colPid)
		if err := fn(); err != nil {
			return err
		}
		a1, errA1 := sampleProc(agentPid)
		c1, errC1 := sampleProc(colPid)
		if errors.Join(errA, errC, errA1, errC1) != nil {
			s.measured = false
			return nil
		}
		s.agentCPU[i], s.collectorCPU[i] = cpuPercent(a0, a1), cpuPercent(c0, c1)
		if i == 1 {
			s.agentFixedSec = float64(a1.cpuTicks-a0.cpuTicks) / clockTicks
		}
		return nil
	}
	if b.o.figures["1"] {
		if err := measure(0, func() (err error) { s.tps, err = b.pg.pgbench(b.o.pgSeconds); return err }); err != nil {
			return s, err
		}
		if err := measure(1, func() error { return b.fixedRate(&s, apart) }); err != nil {
			return s, err
		}
	}
	if b.o.figures["2"] {
		secs := b.o.loopSecs.String()
		if err := measure(2, func() error {
			r, err := b.loadgen("-mode", "files", "-dir", "/dev/shm", "-workers", "2", "-writes", "4", "-size", "128", "-duration", secs)
			s.files = r.rate
			return err
		}); err != nil {
			return s, err
		}
		if err := measure(3, func() error {
			r, err := b.loadgen("-mode", "tcp", "-workers", "2", "-size", "128", "-duration", secs)
			s.tcp = r.rate
			return err
		}); err != nil {
			return s, err
		}
	}
	return s, nil
}

// fixedRate runs pgbench at the fixed rate and takes the machine's busy
// CPU time over it, less the collector's cgroup when it is kept apart.
func (b *bench) fixedRate(s *overheadSample, apart *cgroup) error {
	var u0, u1 time.Duration
	var err error
	if apart != nil {
		if u0, err = apart.usage(); err != nil {
			return err
		}
	}
	m0, err := sampleSystem()
	if err != nil {
		return err
	}
	if s.fixed, err = b.pg.pgbenchFixed(b.tmp, b.rep.fixedRate, b.o.fixedSeconds); err != nil {
		return err
	}
	m1, err := sampleSystem()
	if err != nil {
		return err
	}
	if apart != nil {
		if u1, err = apart.usage(); err != nil {
			return err
		}
		s.apartSec = (u1 - u0).Seconds()
	}
	s.busySec = busySeconds(m0, m1)
	return nil
}

// Figure 3: step the file-write rate up until the agent loses events or
// cannot hand them to the collector in time. Every step gets a fresh
// collector and agent, so no backlog carries from one step to the next.
func (b *bench) pipeline() error {
	for round := 1; round <= b.o.reps; round++ {
		for _, src := range []string{srcFiles, srcRing} {
			rates := b.o.rates
			if src == srcRing {
				rates = b.o.ringRates
			}
			failures := 0
			for _, rate := range rates {
				st, err := b.pipelineStep(round, src, rate)
				if err != nil {
					return err
				}
				b.rep.steps = append(b.rep.steps, st)
				log.Printf("round %d %s step %6d/s: offered %.0f/s, %d records, agent events %d, kernel drops %d, unsent at stop %d, "+
					"collector stored %.0f, lost %v, CPU %% of a core agent %.0f collector %.0f: %s", round, src, rate, st.offered, st.ops, st.events,
					st.kernelDrops, st.spooled, st.stored, st.lost, st.agentCPU, st.collectorCPU, st.verdict)
				if st.verdict == stepOK {
					failures = 0
					continue
				}
				failures++
				if st.verdict == stepLoss || failures >= 2 {
					break
				}
			}
		}
	}
	return b.lossProbe()
}

// lossProbeSpoolMiB bounds the spool in the loss probe: small enough that a
// 15 s burst above what the publisher carries overflows it.
const lossProbeSpoolMiB = 16

// lossProbe shows the loss counters at work: the lowest target rate at which
// a step lost events or fell behind, for 15 s, with a 16 MiB spool instead
// of the default 512 MiB, so what a long burst does happens within the bench.
func (b *bench) lossProbe() error {
	// The ring's steps go furthest: the probe is at the lowest rate at
	// which they fell behind, or else the files' steps did.
	target, src := 0, ""
	for _, from := range []string{srcRing, srcFiles} {
		for _, s := range b.rep.steps {
			if s.source == from && (s.verdict == stepBehind || s.verdict == stepLoss) && (target == 0 || s.target < target) {
				target = s.target
			}
		}
		if target != 0 {
			src = from
			break
		}
	}
	if target == 0 {
		return nil
	}
	b.spoolMaxMiB = lossProbeSpoolMiB
	defer func() { b.spoolMaxMiB = 0 }()
	if err := b.startSite(true); err != nil {
		return err
	}
	defer func() { b.rep.noteStop(b.stopSite()) }()
	pid := b.agent.Pid()
	// The agent's profile at the rate where it stopped keeping up is what
	// the pipeline's closer reads.
	profiled := make(chan error, 1)
	go func() {
		if err := sleep(b.ctx, 2*time.Second); err != nil {
			profiled <- err
			return
		}
		profiled <- b.agentProfile(fmt.Sprintf("%s at %d/s (the loss probe)", src, target), "pipeline-"+src)
	}()
	r, err := b.offer(src, pid, target, 15*time.Second)
	if perr := <-profiled; perr != nil {
		log.Printf("profiling the agent in the loss probe: %v", perr)
	}
	if err != nil {
		return err
	}
	if err := sleep(b.ctx, 1500*time.Millisecond); err != nil {
		return err
	}
	p := lossProbeResult{source: src, target: target, offered: r.rate, ops: r.ops, spoolMiB: lossProbeSpoolMiB}
	if p.kernelDrops, err = kernelDrops(pid); err != nil {
		return err
	}
	p.kernelDrops += r.ringFull
	p.spoolDropped = spoolDropped(b.agent.Log())
	bl, err := readSpoolBacklogs(filepath.Join(b.site, "agent", "spool"))
	if err != nil {
		return err
	}
	p.backlog, p.backlogBytes = bl.unacked, bl.unackedBytes
	c, err := b.col.counters()
	if err != nil {
		return err
	}
	p.collectorLost = c.lost
	b.rep.probe = &p
	log.Printf("loss probe at %d/s with a %d MiB spool: offered %.0f/s, spool_full dropped %d, kernel drops %d, backlog %d records",
		target, lossProbeSpoolMiB, p.offered, p.spoolDropped, p.kernelDrops, p.backlog)
	return nil
}

// pipelineStep offers rate from src for a step to a fresh agent and
// collector and measures the two ends apart: at the agent, the records
// JetStream acknowledged (its spool's ack cursor) and the loss counters;
// then, the agent stopped, the collector storing what waits in JetStream
// with the cores to itself.
func (b *bench) pipelineStep(round int, src string, rate int) (stepSample, error) {
	st := stepSample{round: round, source: src, target: rate, lost: map[string]float64{}}
	if err := b.startSite(false); err != nil {
		return st, err
	}
	// On an error part-way, whichever of the two still runs is stopped.
	defer func() {
		if b.agent != nil {
			b.agent.stop()
			b.agent = nil
		}
		b.col.stop()
		b.col = nil
	}()
	pid := b.agent.Pid()
	cpid := b.col.Pid()
	s0, _ := sampleProc(pid)
	c0, _ := sampleProc(cpid)
	r, err := b.offer(src, pid, rate, b.o.stepSecs)
	if err != nil {
		return st, err
	}
	s1, _ := sampleProc(pid)
	c1, _ := sampleProc(cpid)
	// The agent reads its loss counters every second: give it one more.
	if err := sleep(b.ctx, 1500*time.Millisecond); err != nil {
		return st, err
	}
	c, err := b.col.counters()
	if err != nil {
		return st, err
	}
	if st.kernelDrops, err = kernelDrops(pid); err != nil {
		return st, fmt.Errorf("reading the agent's kernel drop counters: %w", err)
	}
	st.kernelDrops += r.ringFull
	bl, err := readSpoolBacklogs(filepath.Join(b.site, "agent", "spool"))
	if err != nil {
		return st, err
	}
	stop := b.agent.stop()
	b.agent = nil
	b.rep.noteStop(stop)
	st.offered, st.ops = r.rate, r.ops
	st.events, st.spooled, st.uncommitted = stop.events, uint64(bl.unacked), uint64(bl.uncommitted)
	st.stored, st.agentCPU, st.collectorCPU = c.stored, cpuPercent(s0, s1), cpuPercent(c0, c1)
	for k, v := range c.lost {
		if v > 0 {
			st.lost[k] = v
		}
	}
	if st.drained, st.drainTime, st.drainCPU, err = b.collectorDrain(); err != nil {
		return st, err
	}
	st.classify()
	return st, nil
}

// drainLimit bounds how long a step's collector is watched storing its
// backlog alone.
const drainLimit = 6 * time.Second

// collectorDrain measures the collector storing, with the agent stopped,
// what waits for it in JetStream: the events it stored and the time from
// the first sample to the last change, and its CPU seconds meanwhile.
func (b *bench) collectorDrain() (stored float64, d time.Duration, cpu float64, err error) {
	c0, err := b.col.counters()
	if err != nil {
		return 0, 0, 0, err
	}
	p0, perr0 := sampleProc(b.col.Pid())
	c1, d, err := b.drain(b.col, time.Second, drainLimit)
	if err != nil {
		return 0, 0, 0, err
	}
	p1, perr1 := sampleProc(b.col.Pid())
	if perr0 == nil && perr1 == nil {
		cpu = float64(p1.cpuTicks-p0.cpuTicks) / clockTicks
	}
	return c1.stored - c0.stored, d, cpu, nil
}

// Figures 5 and 6: at a steady 1,000 and 10,000 file writes a second, the
// agent's CPU and RSS, and the time from running a dump tool to its alert
// in the collector's store. Each window gets a fresh collector and agent.
func (b *bench) steady() error {
	rates := []int{1000, 10000}
	for round := 1; round <= b.o.reps; round++ {
		for _, rate := range rates {
			s, tr, err := b.steadyWindow(round, rate)
			if err != nil {
				return err
			}
			b.rep.steady = append(b.rep.steady, s)
			b.rep.triggers = append(b.rep.triggers, tr...)
			lat, missing := latencies(tr, rate)
			log.Printf("round %d steady %5d/s: agent CPU %.2f%% of a core, RSS %.1f MiB (VmHWM %.1f), collector stored %.0f/s; "+
				"alert latency p50 %.0f ms max %.0f ms, %d not stored within %s",
				round, rate, s.cpu, float64(s.rssKiB)/1024, float64(s.hwmKiB)/1024, s.stored,
				percentile(lat, 50), percentile(lat, 100), missing, alertGrace)
		}
	}
	// Profiles for the report, outside the measured windows.
	if err := b.startSite(true); err != nil {
		return err
	}
	defer b.stopSite()
	for _, rate := range rates {
		if err := b.profile(rate); err != nil {
			log.Printf("profiling at %d/s: %v", rate, err)
		}
	}
	return nil
}

// alertGrace is how long after a window the bench waits for its alerts.
const alertGrace = 15 * time.Second

func (b *bench) steadyWindow(round, rate int) (steadySample, []trigger, error) {
	s := steadySample{round: round, rate: rate}
	if err := b.startSite(false); err != nil {
		return s, nil, err
	}
	defer func() { b.rep.noteStop(b.stopSite()) }()
	gen := exec.Command(filepath.Join(b.bin, "loadgen"), "-mode", "files", "-dir", "/dev/shm", "-rate", strconv.Itoa(rate),
		"-duration", (b.o.steadySec + 3*time.Second).String())
	if err := gen.Start(); err != nil {
		return s, nil, err
	}
	defer func() { _ = gen.Wait() }() // the load is measured, not its exit
	if err := sleep(b.ctx, 2*time.Second); err != nil {
		return s, nil, err
	}
	pid := b.agent.Pid()
	s0, err := sampleProc(pid)
	if err != nil {
		return s, nil, err
	}
	c0, err := b.col.counters()
	if err != nil {
		return s, nil, err
	}
	var triggers []trigger
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	end := time.Now().Add(b.o.steadySec)
	for time.Now().Before(end) {
		select {
		case <-b.ctx.Done():
			return s, nil, b.ctx.Err()
		case <-tick.C:
		}
		cmd := exec.Command(filepath.Join(b.tmp, "pg_dump"))
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			return s, nil, err
		}
		triggers = append(triggers, trigger{rate: rate, pid: cmd.Process.Pid, start: t0})
		_ = cmd.Wait() // the trigger's effect on the agent is measured, not its exit
		if ps, err := sampleProc(pid); err == nil {
			s.rssKiB = max(s.rssKiB, ps.rssKiB)
		}
	}
	s1, err := sampleProc(pid)
	if err != nil {
		return s, nil, err
	}
	c1, err := b.col.counters()
	if err != nil {
		return s, nil, err
	}
	s.cpu = cpuPercent(s0, s1)
	s.rssKiB = max(s.rssKiB, s1.rssKiB)
	s.hwmKiB = s1.hwmKiB
	s.stored = (c1.stored - c0.stored) / s1.at.Sub(s0.at).Seconds()

	// Collect the alerts, matched to the runs by pid.
	want := map[int]bool{}
	for _, t := range triggers {
		want[t.pid] = true
	}
	got := map[int]alert{}
	var after int64
	deadline := time.Now().Add(alertGrace)
	for len(got) < len(want) && time.Now().Before(deadline) {
		list, err := b.col.alertsAfter(b.ctx, after, "db_dump_tool", time.Until(deadline).Round(time.Millisecond))
		if err != nil {
			return s, nil, err
		}
		seen := time.Now()
		for _, a := range list {
			after = max(after, a.N)
			if want[a.Event.Process.PID] {
				a.seen = seen
				got[a.Event.Process.PID] = a
			}
		}
	}
	for i := range triggers {
		a, ok := got[triggers[i].pid]
		if !ok {
			triggers[i].missing = true
			continue
		}
		triggers[i].stored, triggers[i].kernel, triggers[i].seen = a.Received, a.Event.Time, a.seen
	}
	return s, triggers, nil
}

// profile takes an 8 s CPU profile of the agent at rate and keeps the top
// of it for the report.
func (b *bench) profile(rate int) error {
	gen := exec.Command(filepath.Join(b.bin, "loadgen"), "-mode", "files", "-dir", "/dev/shm", "-rate", strconv.Itoa(rate), "-duration", "11s")
	if err := gen.Start(); err != nil {
		return err
	}
	defer func() { _ = gen.Wait() }() // the load is measured, not its exit
	if err := sleep(b.ctx, 1500*time.Millisecond); err != nil {
		return err
	}
	return b.agentProfile(fmt.Sprintf("%d files/s", rate), fmt.Sprintf("files-%d", rate))
}

// agentProfile takes an 8 s CPU profile of the running agent and keeps
// its top for the report, under key for the closers.
func (b *bench) agentProfile(label, key string) error {
	path := filepath.Join(b.site, "agent-cpu-"+key+".pprof")
	if _, err := run("curl", "-fsS", "-o", path, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=8", b.agent.Pprof)); err != nil {
		return err
	}
	out, err := run("go", "tool", "pprof", "-top", "-cum", "-nodecount=40", filepath.Join(b.bin, "vigil-agent"), path)
	if err != nil {
		return err
	}
	b.rep.profiles = append(b.rep.profiles, profileTop{label: label, key: key, top: out})
	return nil
}

// pgbenchProfile runs pgbench once more with the agent, outside the
// measured rounds, for its CPU profile and its BPF programs' kernel time.
func (b *bench) pgbenchProfile() error {
	if err := b.newSite(); err != nil {
		return err
	}
	var err error
	if b.col, err = b.startCollector(true); err != nil {
		return err
	}
	if b.agent, err = b.startAgent(true); err != nil {
		return err
	}
	defer func() { b.rep.noteStop(b.stopSite()) }()
	done := make(chan error, 1)
	go func() { _, err := b.pg.pgbench(12); done <- err }()
	if err := sleep(b.ctx, 2*time.Second); err != nil {
		return err
	}
	stats, window, err := bpfRunTime(b.agent.Pid(), func() error {
		return b.agentProfile("pgbench (-c 4 -j 2)", "pgbench")
	})
	if err != nil {
		log.Printf("profiling under pgbench: %v", err)
	}
	b.rep.bpfStats, b.rep.bpfWindow = stats, window
	return <-done
}

// Figure 4: the rules package's own Go benchmarks over the default pack.
func (b *bench) rulesBench() error {
	log.Printf("rules benchmarks (go test -bench, -count %d)", b.o.reps)
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "^(BenchmarkPack|BenchmarkNonMatching)$", "-benchmem",
		"-count", strconv.Itoa(b.o.reps), "./rules/")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("rules benchmarks: %w\n%s", err, out)
	}
	b.rep.rules = parseGoBench(string(out))
	if len(b.rep.rules) == 0 {
		return fmt.Errorf("rules benchmarks printed no results:\n%s", out)
	}
	return nil
}

// agentID is the id the current site's agent is enrolled under.
func (b *bench) agentID() string { return fmt.Sprintf("bench-%03d", b.sites) }

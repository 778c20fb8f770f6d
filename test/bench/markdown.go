package main

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// closers say what would close each target when it is missed. They come
// from the agent profiles in the appendix and from BPF run-time statistics
// (kernel.bpf_stats_enabled) taken while measuring; keep them in step with
// the code. The report's owner-facing detail is in docs/benchmarks.md.
var closers = map[string]string{
	"1/pgbench TPS ratio": "Repeats of a statement are folded (db.fold_window, 1 s: ~550 events per 8 s of pgbench " +
		"instead of ~157,000); the db sensor reads each socket call once, at its exit, so a read that returns EAGAIN " +
		"costs a compare; and a repeated simple statement is now redacted from a cache keyed by its text with the " +
		"literals skipped, without the SQL lexer (BenchmarkRedactPgbench 1.25 -> 0.24 µs; the agent's CPU under " +
		"pgbench ~11% -> ~9% of a core, 3 alternating rounds). What is left is mostly in the kernel, per record: BPF " +
		"per pgbench transaction is ~18-22 µs, and builds stopped at each stage put ~550 ns of a captured send or " +
		"receive in the ring buffer submit alone (about the same for a header-only record: it is per record, not per " +
		"byte; on this VM the ring's lock disables interrupts, which is dear here), ~200 ns in reading the bytes and " +
		"the connection, and ~120 ns in the program's entry; a muted server end costs ~210-280 ns, half of it the " +
		"socket table lookup. pgbench keeps both cores busy, so every such microsecond is taken from it; auditd, which " +
		"sees no statements, costs 5-7%. A folded run of a statement now makes no event or payload copy of its own " +
		"(BenchmarkAgentDBPgbenchFolded 1025 -> ~355 B and 7 -> 4 allocations per statement; the agent's CPU under " +
		"pgbench ~6.8% -> ~4.8% of a core, 3 alternating rounds). To close it: fewer ring records per statement (one " +
		"record per request and response pair, or batching a CPU's records before they go to the ring).",
	"2/write loop ratio": "One file.write per closed file, and the loop creates files as fast as the two cores allow, " +
		"so the agent's CPU per event (figure 3) comes straight out of the loop's rate. The file sensor now does " +
		"nothing at the entry of an open, write or rename: they are read at their exit, their arguments from the " +
		"task's syscall registers, with no pending-call hash (BPF time per file 5.9 -> 3.8 µs, bpf_stats, one round " +
		"each). To close it: report writes no rule reads in aggregate from the kernel (the default pack reads " +
		"removable, network and cloud-sync paths by name, and any file only as a step after a bulk read): a " +
		"per-process summary of small files on local disks per interval instead of one event per file. Part of the " +
		"gap is the stand-in collector: niced, it still takes ~25-30% of a core during the loop (the round notes give " +
		"the agent's and the collector's CPU per workload); the agent alone, printing to stdout, kept ~0.75 of the " +
		"loop's rate (/root/m/wl.sh, 3 alternating rounds).",
	"3/pipeline rate with zero loss": "The load generator, the agent, NATS and the collector share the 2 cores, so " +
		"steps stop being reachable long before the agent is the limit: a file written costs the machine its syscalls " +
		"and probes (figure 2) besides the agent's work. Nothing was lost above the sustained rate: the spool absorbed " +
		"the burst. The injected series (next rows) offers records without syscalls and shows where the pipeline itself " +
		"starts to lose.",
	"3/pipeline rate with zero loss, records injected into the ring": "Injected records leave the cores to the " +
		"pipeline, and the agent reads and publishes all of them up to the rate in this row; at the next step its ring " +
		"fills (kernel drops, ringbuf_full) while the agent gets only about half a core: the co-hosted collector, its " +
		"SQLite store (~23k events/s) and its JetStream server, takes ~0.9-1 core (the step table gives both CPUs), the " +
		"injector and the kernel the rest, and the agent's Go code runs on one thread. At its CPU per event (next rows) " +
		"the agent would need about half a core for 100,000/s. Capping the collector at half a core (a cgroup, by hand) " +
		"only moved the loss: JetStream could then not acknowledge 75,000/s and the spool fell behind. To close it: a " +
		"collector off the host, which is what a site runs and what this bench can only stand in for, and a cheaper " +
		"agent per event (event encoding ~28% of its CPU, the spool ~13%, the record's enrichment ~18%): at ~4 µs per " +
		"event it would carry 100,000/s in the half core it gets here with room to spare.",
	"5/syscall to stored alert p99": "The agent reads its ring at most 250 ms after a record is written (less under " +
		"load); alerts are published ahead of the agent's spooled backlog and stored by the collector's own alerts " +
		"consumer. If this is missed, shorten sensor.DefaultMaxPoll (at the cost of figure 6) or look at the " +
		"collector's alerts lane batch size.",
	"6/agent CPU": "At this rate the agent's time goes mostly to waking up, not to events: under perf ~30% is the " +
		"hypervisor's interrupt enabling around context switches (pvm_irq_enable) and ~20% Go's sysmon, which naps " +
		"every 20 µs from each wake until the process is idle again. So the agent wakes as little as it can: the ring " +
		"is polled without wakeups, backing off from 10 ms to 250 ms while drains stay under 1,024 records, and a " +
		"quarter-full ring wakes the reader early so a burst cannot fill it; the sender and the spool flush go on the " +
		"reader's wakeups; the spool cursor is one pwrite; the rule watcher stats unchanged files; the agent runs its " +
		"Go code on one thread (GOMAXPROCS 1); and it no longer reports the co-hosted collector, whose store writes it " +
		"used to publish, which the collector wrote again (~20 events/s at idle, for ever). Alternating rounds of a " +
		"steady-rate script: ~2.0% -> ~1.2% of a core for the 250 ms sleep, idle 0.9% -> 0.4% for the collector. " +
		"Next: Go's sysmon and the NATS client's goroutines (its flusher and reader wake once per message and per " +
		"acknowledgement): publish from the reader's own goroutine.",
	"6/agent RSS":               "Bound the process table and enrichment caches (the agent already sets a 24 MiB GOMEMLIMIT).",
	"4/BenchmarkPack/host time": "Profile BenchmarkPack/host; index rules by kind and avoid per-field cty conversion.",
}

func closerFor(r row) string {
	if r.target == nil || r.status() != "missed" {
		return ""
	}
	return closers[r.figure+"/"+r.metric]
}

func (r *report) markdown(rows []row) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	m := r.machine
	p("# vigil benchmarks\n\n")
	p("Written by `make bench` (`go run ./test/bench`, issue 7) on %s; the run took %s. Every figure is the median of %d repetitions. "+
		"Figures 1 and 2 alternate the three set-ups round by round (no monitor, vigil-agent, auditd, no monitor, ...) and report "+
		"each round's ratio to that round's no-monitor baseline.\n\n", m.started.Format("2006-01-02 15:04 MST"), r.elapsed.Round(time.Second), r.o.reps)
	p("> **Measured on a shared, noisy 2-core VM** (load average %s when the run started, %s when it ended, on %d cores: "+
		"a load above the core count means other work shared the machine). Absolute numbers move from run to run; the ratios from "+
		"alternating rounds are the figures to read, and every round's value is listed below so the spread is visible.\n\n",
		m.loadStart, m.loadEnd, m.nproc)

	p("## Results\n\n")
	p("| # | Measure | Set-up | Result | Target | Verdict | What would close it |\n|---|---|---|---|---|---|---|\n")
	for _, x := range rows {
		tgt, verdict := "—", x.status()
		if x.target != nil {
			tgt = x.target.text
			if g := x.gap(); g != "" {
				verdict = g
			}
		}
		res := x.fmt(x.value) + " " + x.unit
		if x.note != "" {
			res += " (" + x.note + ")"
		}
		p("| %s | %s | %s | %s | %s | %s | %s |\n", x.figure, x.metric, x.setup, res, tgt, verdict, closerFor(x))
	}
	p("\nThe same rows are in `benchmarks.csv` beside this file, with every repetition's value.\n\n")

	p("## Machine\n\n")
	p("| | |\n|---|---|\n")
	p("| CPU | %s, %d cores (nproc) |\n| Memory | %.1f GiB |\n| Kernel | %s |\n| OS | %s |\n| Go | %s |\n| PostgreSQL | %s |\n| auditd | %s |\n\n",
		m.cpu, m.nproc, m.memGiB, m.kernel, m.osRelease, m.goVer, m.postgres, m.auditd)

	if len(r.overheads) > 0 {
		p("## Figures 1 and 2, round by round\n\n")
		p("| Round | Set-up | pgbench TPS | write loop files/s | transfer loop connections/s | Notes |\n|---|---|---|---|---|---|\n")
		for _, s := range r.overheads {
			p("| %d | %s | %.0f | %.0f | %.0f | %s |\n", s.round, s.mode, s.tps, s.files, s.tcp, strings.Trim(s.note(), "()"))
		}
		p("\n")
	}
	if len(r.steps) > 0 {
		p("## Figure 3, rate steps\n\n")
		p("Each step starts a fresh collector and agent (no backlog carries over) and offers the target rate for %s, from one "+
			"of two sources: *files*, 2 loadgen workers writing real files (one `file.write` event per file), or *ring*, "+
			"`file.write` records injected into the agent's ring buffer by a BPF program that `loadgen -mode ring` runs with "+
			"BPF_PROG_TEST_RUN (`agent/sensor/inject`: the file sensor's record, wakeup policy and trimmed size, a distinct path each; a full "+
			"ring counts in the injector's own drops map, added to the kernel drops), so that the 2 cores are left to the "+
			"agent, NATS and the collector. 1.5 s after the step the bench reads the agent's in-kernel loss counters "+
			"(every sensor's `drops` map, through the agent's own map file descriptors and bpftool), the agent's spool backlog "+
			"(records after its cursor: not yet acknowledged by JetStream) and the collector's counters. *sustained*: no loss "+
			"counter rose and the spool held less than 0.2 s of the rate (or 1,000 records). *generator-bound*: as sustained, "+
			"but the generator (loadgen or the injector) reached less than 95%% of the target because the 2 cores were full. *loss*: a loss counter rose. "+
			"*fell behind*: nothing lost yet, but the spool was growing (a longer burst ends in spool_full loss).\n\n", r.o.stepSecs)
		p("| Round | Source | Target/s | Offered/s | Records | Kernel drops | Spool backlog | Collector stored (share of records) | Collector loss counters | CPU %% of a core, agent / collector | Verdict |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range r.steps {
			p("| %d | %s | %d | %.0f | %d | %d | %d | %.0f (%.0f%%) | %s | %.0f / %.0f | %s |\n", s.round, s.source, s.target, s.offered, s.ops,
				s.kernelDrops, s.spooled, s.stored, 100*s.collectorShare(), lostByReason(s.lost), s.agentCPU, s.collectorCPU, s.verdict)
		}
		if pr := r.probe; pr != nil {
			p("\n**Loss probe.** After the rounds, the lowest target at which a step lost events or fell behind (%d/s) ran for 15 s "+
				"with `spool_max_mib = %d` instead of the default 512, so that what a long burst does happens within the bench: "+
				"offered %.0f/s (%s), the agent logged `spool full: oldest events dropped` for %d events in all (each time also "+
				"emitting an agent.loss record, reason spool_full), in-kernel drops %d, spool backlog %d records (%.1f MiB) 1.5 s "+
				"after the burst; the collector's loss counters read %s by then (it was still storing the backlog: a gap's seqs "+
				"count under seq_gap when found and under spool_full when the agent's record explains them, while its store "+
				"holds each missing seq once).\n",
				pr.target, pr.spoolMiB, pr.offered, sourceText(pr.source), pr.spoolDropped, pr.kernelDrops, pr.backlog, float64(pr.backlogBytes)/(1<<20),
				lostText(pr.collectorLost))
		}
		p("\nThe collector column shows the end of the pipeline: the collector stores (SQLite) more slowly than the agent " +
			"hands events to JetStream, so above its store rate events wait, durably, in the JetStream stream.\n\n")
	}
	if r.agentKilled > 0 {
		p("**Agent shutdown.** In %d of %d stops the agent did not exit on SIGINT: it sat idle (no CPU for 1.5 s) and "+
			"the bench killed it. `sensor.Set.Shutdown` detaches the probes and then calls the ring buffer reader's "+
			"`SetDeadline`, which waits for the reader's mutex, held by `ReadInto` blocked in epoll for a record that, with "+
			"the probes gone, never comes (goroutine dump: `ringbuf.(*Reader).SetDeadline` under `sensor.(*Set).Shutdown`, "+
			"`ringbuf.(*Reader).ReadInto` under `agent.(*Agent).Run`). The bench reads the agent's loss counters from the "+
			"kernel maps before stopping it, so no figure depends on its exit line.\n\n", r.agentKilled, r.agentStops)
	}
	if len(r.bpfStats) > 0 {
		p("## The agent's BPF programs under pgbench\n\n")
		p("Kernel time of the agent's own programs (found through its file descriptors) over %s of pgbench with the "+
			"agent running, from `kernel.bpf_stats_enabled` (switched on for that window only): %.3f s of CPU in total, "+
			"%.1f%% of one core. The programs that cost most:\n\n| Program | Runs | Total s | ns/run |\n|---|---|---|---|\n",
			r.bpfWindow.Round(100*time.Millisecond), r.bpfTotal().Seconds(), 100*r.bpfTotal().Seconds()/r.bpfWindow.Seconds())
		for i, st := range r.bpfStats {
			if i == 10 {
				break
			}
			p("| %s | %d | %.3f | %.0f |\n", st.name, st.runs, st.ns.Seconds(), float64(st.ns)/float64(max(st.runs, 1)))
		}
		p("\n")
	}
	if len(r.triggers) > 0 {
		p("## Figure 5, latency distribution\n\n")
		p("| Background load | Alerts | Missing | p50 ms | p90 ms | p99 ms | max ms | p50 kernel stamp → stored ms |\n|---|---|---|---|---|---|---|---|\n")
		for _, rate := range []int{1000, 10000} {
			lat, missing := r.latencies(rate)
			var k []float64
			for _, t := range r.triggers {
				if t.rate == rate && !t.missing {
					k = append(k, float64(t.stored.Sub(t.kernel))/float64(time.Millisecond))
				}
			}
			p("| %d files/s | %d | %d | %s | %s | %s | %s | %s |\n", rate, len(lat), missing, msText(percentile(lat, 50)),
				msText(percentile(lat, 90)), msText(percentile(lat, 99)), msText(percentile(lat, 100)), msText(percentile(k, 50)))
		}
		p("\n")
	}
	if len(r.steady) > 0 {
		p("## Figure 6, round by round\n\n| Round | Rate | Agent CPU %% of a core | RSS MiB (highest seen) | VmHWM MiB | Collector stored/s |\n|---|---|---|---|---|---|\n")
		for _, s := range r.steady {
			p("| %d | %d | %.2f | %.1f | %.1f | %.0f |\n", s.round, s.rate, s.cpu, float64(s.rssKiB)/1024, float64(s.hwmKiB)/1024, s.stored)
		}
		p("\n")
	}
	if len(r.rules) > 0 {
		p("## Figure 4, Go benchmark runs\n\n| Benchmark | ns/event | B/event | allocs/event |\n|---|---|---|---|\n")
		for _, g := range r.rules {
			p("| %s | %s | %s | %s |\n", g.name, join(g.nsPerOp, "%.0f"), join(g.bPerOp, "%.0f"), join(g.allocsPer, "%.2f"))
		}
		p("\n")
	}

	p("## How each figure is measured\n\n")
	p("- **Set-ups.** *Baseline*: no monitor. *vigil-agent*: the agent built from this tree with the default pack (`rules/packs`), "+
		"all four sensors, `net.include_loopback = true` (a one-machine benchmark has only loopback traffic; the default config "+
		"would skip it), the bench's PostgreSQL port among `db.ports`, publishing through its spool to a local vigil-collector "+
		"with embedded NATS. For figures 1 and 2 the collector runs under `nice -n 19`, standing in for a collector on another "+
		"machine; the CPU it still takes counts against the agent, and the bench waits for it to catch up before the next set-up. "+
		"*auditd*: Debian's auditd started by the bench (its own config and log in a temporary directory, Debian's audit.rules "+
		"defaults `-b 8192 --backlog_wait_time 60000 -f 1`) with rules for the same activity:\n\n```\n%s\n```\n\n", auditRulesText())
	p("- **1. pgbench**: PostgreSQL 15 started by the bench in a temporary directory on 127.0.0.1 (`fsync=off`, "+
		"`synchronous_commit=off`: CPU-bound, the worst case for a monitor and much less noisy on a shared virtual disk), "+
		"`pgbench -i -s 10`, then per set-up `pgbench -n -c 4 -j 2 -T %d` (the built-in TPC-B-like script over TCP, so the "+
		"agent's db sensor sees every statement). Ratio = set-up TPS / same round's baseline TPS.\n", r.o.pgSeconds)
	p("- **2. Write loop**: `loadgen -mode files -dir /dev/shm -workers 2 -writes 4 -size 128 -duration %s` (create, four "+
		"128-byte writes, close, as fast as possible on tmpfs so the disk does not hide the monitor's CPU cost). **Transfer "+
		"loop**: `loadgen -mode tcp -workers 2 -size 128 -duration %s` (connect, send 128 bytes, close, over loopback). Both use "+
		"two workers so both cores are busy and none of a monitor's work runs on an idle core for free.\n", r.o.loopSecs, r.o.loopSecs)
	p("- **3. Pipeline**: the agent publishing to a collector at normal priority, a fresh pair per step. Two series per "+
		"round, each climbing until a step loses events or two steps in a row fail to sustain: loadgen writes files at "+
		"each rate of `%s` events/s, then the bench injects file.write records into the agent's ring at each rate of `%s` "+
		"events/s (`agent/sensor/inject`); each step lasts %s, in %d rounds. The first series is what a real workload "+
		"can offer beside the agent on 2 cores; the second is the agent's own limit, from the ring through decoding, "+
		"enrichment, rules, the spool and JetStream (the probes' cost per real file is what figures 1 and 2 measure). "+
		"Loss evidence: the agent's in-kernel `drops` counters (ring buffer full, map full) read straight from its BPF "+
		"maps, the injector's, and the collector's `vigil_collector_lost_events_total` by reason (agent.loss records: "+
		"spool overflow, sequence gaps). The figure is the median over rounds of the highest offered rate sustained; the "+
		"agent's CPU per event at that step projects what its core would carry.\n",
		join(intsToFloats(r.o.rates), "%.0f"), join(intsToFloats(r.o.ringRates), "%.0f"), r.o.stepSecs, r.o.reps)
	p("- **4. Rules**: `go test -run '^$' -bench '^(BenchmarkPack|BenchmarkNonMatching)$' -benchmem -count %d ./rules/` "+
		"(the rules package's own benchmarks; `BenchmarkPack/host` is the agent's engine over a realistic event mix).\n", r.o.reps)
	p("- **5. Latency**: every 500 ms of each figure-6 window the bench runs a copy of `/bin/true` named `pg_dump`, which " +
		"the default pack's `db_dump_tool` rule alerts on. Start = the bench's wall clock just before fork and exec; end = " +
		"the alert's `received` time in the collector's store (stamped by the collector when it stores the batch, millisecond " +
		"resolution, read back through `/api/alerts?after=N&rule=db_dump_tool&wait=10s` and matched to the run by its pid). " +
		"All three clocks are the same host's CLOCK_REALTIME. The kernel-stamp column splits off the part after the exec " +
		"event's own kernel timestamp.\n")
	p("- **6. CPU and RSS**: loadgen at a steady 1,000 and then 10,000 files/s (one worker), alternating, %d rounds, each "+
		"window with a fresh collector and agent; after 2 s of warm-up, the agent's utime+stime from `/proc/<pid>/stat` "+
		"over a %s window (%% of one core) and the highest VmRSS from `/proc/<pid>/status` sampled every 500 ms. Other "+
		"processes on the machine also produce events the agent sees; the collector's stored rate shows what arrived.\n\n",
		r.o.reps, r.o.steadySec)

	p("## Commands\n\n```\n")
	p("sudo apt-get install postgresql postgresql-contrib auditd bpftool   # prerequisites (the bench checks and names what is missing)\n")
	p("make bench                                                  # = go run ./test/bench -out docs\n")
	p("go run ./test/bench -reps 5 -figures 1,2,3,4,5,6 -out docs -keep   # the same, keeping logs and profiles\n")
	p("go test -run '^$' -bench . -benchmem ./rules/               # figure 4 alone\n")
	p("go tool pprof -top bin/vigil-agent http://127.0.0.1:6060/debug/pprof/profile?seconds=8   # agent run with --pprof 127.0.0.1:6060\n")
	p("```\n\n")

	if len(r.profiles) > 0 {
		p("## Appendix: agent CPU profiles\n\n")
		p("8-second CPU profiles of the agent (`--pprof`) at steady file-write rates, taken after the measured windows; " +
			"`go tool pprof -top -nodecount=25`.\n\n")
		for _, pr := range r.profiles {
			p("### %s\n\n```\n%s```\n\n", pr.label, trimProfile(pr.top))
		}
	}
	return b.String()
}

// msText prints milliseconds, and an alert never stored as "> grace".
func msText(v float64) string {
	if math.IsInf(v, 1) {
		return fmt.Sprintf("> %.0f", alertGrace.Seconds()*1000)
	}
	return fmt.Sprintf("%.0f", v)
}

// trimProfile drops pprof's header lines that name temporary files.
func trimProfile(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Main binary") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func intsToFloats(v []int) []float64 {
	var out []float64
	for _, x := range v {
		out = append(out, float64(x))
	}
	return out
}

// lostByReason lists the collector's loss counters, "reason=n" sorted by
// reason, or "0". They are not added up: a gap's events count under seq_gap
// and again under spool_full when the agent's report explains them.
func lostByReason(lost map[string]float64) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(lost)) {
		out = append(out, fmt.Sprintf("%s=%.0f", k, lost[k]))
	}
	if len(out) == 0 {
		return "0"
	}
	return strings.Join(out, " ")
}

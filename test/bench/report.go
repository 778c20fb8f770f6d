package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/agent/sensor"
)

const (
	modeBaseline = "baseline"
	modeAgent    = "vigil-agent"
	// modeAgentApart is the agent with its collector's cost kept out: the
	// collector niced, in a cgroup of its own, its CPU taken out of the
	// machine's, as a collector on another machine would be.
	modeAgentApart = "vigil-agent, collector apart"
	modeAuditd     = "auditd"
)

// overheadSample is one set-up's figures 1 and 2 in one round.
type overheadSample struct {
	round           int
	mode            string
	tps             float64 // pgbench transactions/s, as fast as it goes
	fixed           fixedRun
	busySec         float64 // the machine's busy CPU time over the fixed-rate run
	apartSec        float64 // of which the collector's cgroup, when apart
	agentFixedSec   float64 // the agent's CPU time over the fixed-rate run
	files           float64 // write loop files/s (4 writes each)
	tcp             float64 // transfer loop connections/s
	agentEvents     uint64
	agentDrops      uint64
	auditRecords    int
	auditLostBefore uint64
	auditLost       uint64
	// With the agent: its CPU and the collector's, in % of a core, during
	// pgbench, pgbench at the fixed rate, the write loop and the transfer
	// loop.
	agentCPU, collectorCPU [4]float64
	measured               bool
}

// cpuPerTx is the machine's busy CPU per fixed-rate transaction, in µs,
// less the collector's when it is kept apart.
func (s overheadSample) cpuPerTx() float64 {
	if s.fixed.transactions == 0 {
		return math.NaN()
	}
	return (s.busySec - s.apartSec) / float64(s.fixed.transactions) * 1e6
}

// agentPerTx is the agent's own CPU per fixed-rate transaction, in µs.
func (s overheadSample) agentPerTx() float64 {
	if s.fixed.transactions == 0 || !s.measured {
		return math.NaN()
	}
	return s.agentFixedSec / float64(s.fixed.transactions) * 1e6
}

func (s overheadSample) note() string {
	switch s.mode {
	case modeAgent, modeAgentApart:
		ev := "events unknown: killed at stop"
		if s.agentEvents > 0 {
			ev = fmt.Sprintf("%d events", s.agentEvents)
		}
		cpu := ""
		if s.measured {
			cpu = fmt.Sprintf("; CPU %% of a core, agent / collector: pgbench %.0f / %.0f, at the fixed rate %.1f / %.1f, write loop %.0f / %.0f, transfer %.0f / %.0f",
				s.agentCPU[0], s.collectorCPU[0], s.agentCPU[1], s.collectorCPU[1], s.agentCPU[2], s.collectorCPU[2], s.agentCPU[3], s.collectorCPU[3])
		}
		return fmt.Sprintf("(agent: %s, %d kernel drops%s)", ev, s.agentDrops, cpu)
	case modeAuditd:
		return fmt.Sprintf("(auditd: %d syscall records, %d lost)", s.auditRecords, s.auditLost)
	}
	return ""
}

// stepSample is one rate step of figure 3.
type stepSample struct {
	round       int
	source      string // srcFiles or srcRing
	target      int
	offered     float64 // file writes/s loadgen achieved, or records/s injected
	ops         int64   // files written, or records injected
	events      uint64  // events the agent emitted (its stop line; 0 when it had to be killed)
	kernelDrops uint64  // in-kernel drops, all sensors, read from the agent's maps 1.5 s after the load
	spooled     uint64  // spool records not yet acknowledged by JetStream then
	uncommitted uint64  // spool records the collector had not yet confirmed stored then
	stored      float64 // messages the collector had stored 1.5 s after the load stopped
	// drained is what the collector stored after the agent stopped, over
	// drainTime, up to drainLimit: its own rate with the cores to itself.
	drained   float64
	drainTime time.Duration
	drainCPU  float64 // the collector's CPU seconds over the whole drain wait
	lost      map[string]float64
	agentCPU  float64
	// collectorCPU is the collector's, with its embedded NATS server,
	// over the same window (% of a core).
	collectorCPU float64
	verdict      string
}

const (
	stepOK     = "sustained"
	stepGen    = "generator-bound"
	stepLoss   = "loss"
	stepBehind = "fell behind"
)

func (s *stepSample) lostTotal() float64 {
	t := 0.0
	for _, v := range s.lost {
		t += v
	}
	return t
}

// classify: loss when any loss counter rose; fell behind when 1.5 s after
// the load stopped the spool still held more than 0.2 s of the target rate
// (1,000 records at least) not yet acknowledged by JetStream;
// generator-bound when loadgen could not reach 95% of the target.
func (s *stepSample) classify() {
	switch {
	case s.kernelDrops > 0 || s.lostTotal() > 0:
		s.verdict = stepLoss
	case s.spooled > max(1000, uint64(s.target)/5):
		s.verdict = stepBehind
	case s.offered < 0.95*float64(s.target):
		s.verdict = stepGen
	default:
		s.verdict = stepOK
	}
}

// acked is the records JetStream acknowledged by 1.5 s after the step:
// those offered, less those dropped in the kernel and those still waiting
// in the spool, and no more than the agent says it emitted, since records
// it never read are in neither count. NaN when the agent had to be killed
// and so never said.
func (s *stepSample) acked() float64 {
	if s.events == 0 {
		return math.NaN()
	}
	return max(0, min(float64(s.ops)-float64(s.kernelDrops), float64(s.events))-float64(s.spooled))
}

// ackedRate is the offered rate scaled by the share of the records
// JetStream acknowledged: a step whose backlog stayed under 0.2 s of its
// rate kept up with it, so its acks came at the rate the records did.
func (s *stepSample) ackedRate() float64 {
	if s.ops == 0 {
		return 0
	}
	return s.offered * s.acked() / float64(s.ops)
}

// drainRate is the collector's store rate alone, or NaN when it had less
// than a second's storing to do, which says nothing of its limit.
func (s *stepSample) drainRate() float64 {
	if s.drainTime < time.Second {
		return math.NaN()
	}
	return s.drained / s.drainTime.Seconds()
}

// collectorShare is the part of the agent's events the collector had
// stored 1.5 s after the load stopped.
func (s *stepSample) collectorShare() float64 {
	if s.ops == 0 {
		return 0
	}
	return s.stored / float64(s.ops)
}

// steadySample is one window of figure 6.
type steadySample struct {
	round  int
	rate   int
	cpu    float64 // % of one core
	rssKiB uint64  // highest VmRSS seen in the window
	hwmKiB uint64  // VmHWM at the end of the window
	stored float64 // messages/s the collector stored
}

// trigger is one dump-tool run of figure 5.
type trigger struct {
	rate    int
	pid     int
	start   time.Time // just before fork and exec
	kernel  time.Time // the process.exec event's time, from the kernel
	stored  time.Time // the alert's received time in the collector's store
	seen    time.Time // when the bench's long poll returned the alert
	missing bool
}

// lossProbeResult is figure 3's loss probe.
type lossProbeResult struct {
	source        string
	target        int
	offered       float64
	ops           int64
	spoolMiB      int
	spoolDropped  uint64
	kernelDrops   uint64
	backlog       int64
	backlogBytes  int64
	collectorLost map[string]float64
}

type profileTop struct {
	label string
	key   string // what the closers look it up by: pgbench, files-<rate>, pipeline-<source>
	top   string
}

// bpfStat is one BPF program's run time over a window.
type bpfStat struct {
	name string
	runs uint64
	ns   time.Duration
}

// goBench is one Go benchmark's results over -count runs.
type goBench struct {
	name                       string
	nsPerOp, bPerOp, allocsPer []float64
}

func parseGoBench(out string) []goBench {
	var order []string
	by := map[string]*goBench{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		g := by[name]
		if g == nil {
			g = &goBench{name: name}
			by[name] = g
			order = append(order, name)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				g.nsPerOp = append(g.nsPerOp, v)
			case "B/op":
				g.bPerOp = append(g.bPerOp, v)
			case "allocs/op":
				g.allocsPer = append(g.allocsPer, v)
			}
		}
	}
	var res []goBench
	for _, n := range order {
		res = append(res, *by[n])
	}
	return res
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile is the nearest-rank percentile p (0-100) of v.
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(rank, 1)-1]
}

// target is a figure's goal: value >= limit (atLeast) or value < limit.
type target struct {
	limit   float64
	atLeast bool
	text    string
	orEqual bool // below: value <= limit meets it
}

// row is one line of the results table and the CSV.
type row struct {
	figure, metric, setup string
	value                 float64
	unit                  string
	format                string // fmt verb for value
	target                *target
	reps                  []float64
	note                  string
}

func (r row) status() string {
	if r.target == nil {
		return "reference"
	}
	if math.IsNaN(r.value) {
		return "not measured"
	}
	if r.met() {
		return "met"
	}
	return "missed"
}

func (r row) met() bool {
	if r.target.atLeast {
		return r.value >= r.target.limit
	}
	if r.target.orEqual {
		return r.value <= r.target.limit
	}
	return r.value < r.target.limit
}

// gap says by how much a target was missed (or the margin it was met by).
func (r row) gap() string {
	if r.target == nil || math.IsNaN(r.value) {
		return ""
	}
	d := r.value - r.target.limit
	if math.IsInf(d, 1) {
		return "missed (some never arrived)"
	}
	rel := 100 * d / r.target.limit
	word := "met, margin"
	if !r.met() {
		word = "missed by"
	}
	return fmt.Sprintf("%s %s (%+.0f%%)", word, strings.TrimPrefix(r.fmt(math.Abs(d)), "+"), rel)
}

func (r row) fmt(v float64) string {
	if math.IsInf(v, 1) {
		return fmt.Sprintf("> %.0f", alertGrace.Seconds()*1000)
	}
	f := r.format
	if f == "" {
		f = "%.3g"
	}
	return fmt.Sprintf(f, v)
}

// machine describes where the figures were measured.
type machine struct {
	nproc               int
	memGiB              float64
	kernel, cpu, goVer  string
	postgres, auditd    string
	loadStart, loadEnd  string
	started             time.Time
	hostname, osRelease string
}

func describeMachine() machine {
	m := machine{nproc: runtime.NumCPU(), goVer: runtime.Version(), loadStart: loadavg(), started: time.Now().UTC()}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.memGiB = float64(parseStatusKiB(string(b), "MemTotal:")) / (1 << 20)
	}
	m.kernel = sensor.KernelRelease()
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m.osRelease = strings.Trim(v, `"`)
			}
		}
	}
	if p := pgBin("postgres"); p != "" {
		out, _ := run(p, "--version")
		m.postgres = strings.TrimSpace(out)
	}
	if out, err := run("auditctl", "-v"); err == nil {
		m.auditd = strings.TrimSpace(out)
	}
	return m
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

type report struct {
	o options
	// calibrationTPS is pgbench's rate with no monitor before the rounds;
	// fixedRate is the rate the fixed-rate runs ask for.
	calibrationTPS float64
	fixedRate      int
	agentStops     int
	agentKilled    int
	machine        machine
	elapsed        time.Duration
	overheads      []overheadSample
	steps          []stepSample
	steady         []steadySample
	triggers       []trigger
	probe          *lossProbeResult
	profiles       []profileTop
	bpfStats       []bpfStat
	bpfWindow      time.Duration
	rules          []goBench
}

func newReport(o options) *report { return &report{o: o} }

func (r *report) bpfTotal() time.Duration {
	var t time.Duration
	for _, s := range r.bpfStats {
		t += s.ns
	}
	return t
}

// noteStop counts how often the agent had to be killed at stop.
func (r *report) noteStop(st agentStopped) {
	r.agentStops++
	if st.killed {
		r.agentKilled++
	}
}

// fixedRateRows are figure 1 at a fixed rate: the machine's CPU per
// transaction (its overhead against the same round's baseline) and the
// agent's own, and pgbench's latency, per set-up.
func (r *report) fixedRateRows() []row {
	perTx := func(s overheadSample) float64 { return s.cpuPerTx() }
	rate := fmt.Sprintf("at %d/s (%.0f%% of %.0f tps)", r.fixedRate, 100*fixedRateShare, r.calibrationTPS)
	_, base := r.ratios(modeBaseline, perTx)
	rows := []row{{figure: "1", metric: "pgbench fixed-rate CPU per transaction", setup: modeBaseline, value: median(base), unit: "µs",
		format: "%.0f", reps: base, note: rate + ", busy CPU of all cores from /proc/stat"}}
	for _, mode := range []string{modeAgent, modeAgentApart, modeAuditd} {
		ratios, raw := r.ratios(mode, perTx)
		if len(raw) == 0 {
			continue
		}
		var over []float64
		for _, x := range ratios {
			over = append(over, 100*(x-1))
		}
		var tgt *target
		if mode != modeAuditd {
			tgt = &target{3, false, "≤ 3%", true}
		}
		note := fmt.Sprintf("%.0f µs per transaction", median(raw))
		if mode == modeAgentApart {
			note += ", the collector's cgroup taken out"
		}
		rows = append(rows, row{figure: "1", metric: "pgbench fixed-rate CPU overhead", setup: mode, value: median(over), unit: "% per transaction",
			format: "%.1f", target: tgt, reps: over, note: note})
		if mode != modeAuditd {
			_, agent := r.ratios(mode, func(s overheadSample) float64 { return s.agentPerTx() })
			agent = slices.DeleteFunc(agent, math.IsNaN) // rounds whose agent could not be sampled
			rows = append(rows, row{figure: "1", metric: "pgbench fixed-rate agent CPU per transaction", setup: mode, value: median(agent),
				unit: "µs", format: "%.1f", reps: agent})
		}
	}
	for _, lat := range []struct {
		metric string
		get    func(overheadSample) float64
	}{
		{"pgbench fixed-rate latency average", func(s overheadSample) float64 { return s.fixed.latAvgMs }},
		{"pgbench fixed-rate latency p99", func(s overheadSample) float64 { return s.fixed.latP99Ms }},
	} {
		for _, mode := range []string{modeBaseline, modeAgent, modeAgentApart, modeAuditd} {
			ratios, raw := r.ratios(mode, lat.get)
			if len(raw) == 0 {
				continue
			}
			note := ""
			if mode != modeBaseline && len(ratios) > 0 {
				note = fmt.Sprintf("×%.2f baseline", median(ratios))
			}
			rows = append(rows, row{figure: "1", metric: lat.metric, setup: mode, value: median(raw), unit: "ms", format: "%.2f",
				reps: raw, note: note})
		}
	}
	return rows
}

// ratios pairs each round's set-up with that round's baseline.
func (r *report) ratios(mode string, get func(overheadSample) float64) (ratios, raw []float64) {
	base := map[int]float64{}
	for _, s := range r.overheads {
		if s.mode == modeBaseline {
			base[s.round] = get(s)
		}
	}
	for _, s := range r.overheads {
		if s.mode != mode {
			continue
		}
		raw = append(raw, get(s))
		if b := base[s.round]; b > 0 {
			ratios = append(ratios, get(s)/b)
		}
	}
	return ratios, raw
}

func (r *report) rows() []row {
	var rows []row
	if r.o.figures["1"] {
		rows = append(rows, r.fixedRateRows()...)
	}
	if r.o.figures["1"] || r.o.figures["2"] {
		figs := []struct {
			fig, metric string
			get         func(overheadSample) float64
			unit        string
			tgt         *target
		}{
			{"1", "pgbench max TPS", func(s overheadSample) float64 { return s.tps }, "transactions/s", &target{0.97, true, "≥ 0.97 of baseline", false}},
			{"2", "write loop", func(s overheadSample) float64 { return s.files }, "files/s", &target{0.90, true, "≥ 0.90 of baseline", false}},
			{"2", "transfer loop", func(s overheadSample) float64 { return s.tcp }, "connections/s", nil},
		}
		for _, f := range figs {
			if !r.o.figures[f.fig] {
				continue
			}
			_, base := r.ratios(modeBaseline, f.get)
			rows = append(rows, row{figure: f.fig, metric: f.metric, setup: modeBaseline, value: median(base), unit: f.unit, format: "%.0f", reps: base})
			for _, mode := range []string{modeAgent, modeAgentApart, modeAuditd} {
				ratios, _ := r.ratios(mode, f.get)
				tgt := f.tgt
				if mode == modeAuditd {
					tgt = nil
				}
				rows = append(rows, row{figure: f.fig, metric: f.metric + " ratio", setup: mode, value: median(ratios), unit: "× baseline",
					format: "%.3f", target: tgt, reps: ratios})
			}
		}
	}
	if r.o.figures["3"] {
		for _, src := range []string{srcFiles, srcRing} {
			metric, setup, tgt := "files written → JetStream acknowledged with zero loss", modeAgent, (*target)(nil)
			if src == srcRing {
				metric, setup = "ring → JetStream acknowledged with zero loss", modeAgent+", injected"
				tgt = &target{200000, true, "≥ 200,000 events/s", false}
			}
			best, loss := r.pipelineFigures(src)
			if len(best) == 0 {
				continue
			}
			rows = append(rows, row{figure: "3", metric: metric, setup: setup, value: median(best), unit: "events/s",
				format: "%.0f", target: tgt, reps: best, note: r.pipelineNote(src)})
			if len(loss) > 0 {
				rows = append(rows, row{figure: "3", metric: "rate where loss or lag starts", setup: setup, value: median(loss), unit: "events/s offered",
					format: "%.0f", reps: loss, note: r.firstLossNote(src)})
			}
			if us := r.agentMicrosPerEvent(src); len(us) > 0 {
				rows = append(rows, row{figure: "3", metric: "agent CPU per event", setup: setup, value: median(us), unit: "µs",
					format: "%.1f", reps: us, note: fmt.Sprintf("at the highest sustained step; %.0f events/s on the one core the agent's Go code runs on",
						1e6/median(us))})
			}
		}
		if pr := r.probe; pr != nil {
			note := fmt.Sprintf("%d MiB spool (default 512), 15 s at %.0f/s offered (%s): kernel drops %d, collector loss so far %s",
				pr.spoolMiB, pr.offered, sourceText(pr.source), pr.kernelDrops, lostText(pr.collectorLost))
			if fill := r.defaultSpoolFill(); fill > 0 {
				note += fmt.Sprintf("; with the default spool the same burst starts losing after about %s", fill.Round(time.Second))
			}
			rows = append(rows, row{figure: "3", metric: "loss probe: events dropped from the full spool", setup: modeAgent,
				value: float64(pr.spoolDropped), unit: "events (spool_full)", format: "%.0f", note: note})
		}
		if st, during := r.collectorRates(); len(st) > 0 {
			rows = append(rows, row{figure: "3", metric: "collector stored", setup: "vigil-collector", value: median(st), unit: "events/s",
				format: "%.0f", target: &target{100000, true, "≥ 100,000 events/s on 2 cores", false}, reps: st,
				note: fmt.Sprintf("highest per round, storing what waited in JetStream after the agent stopped, alone on the cores; "+
					"while the agent and the load shared them: %.0f events/s", median(during))})
		}
	}
	if r.o.figures["4"] {
		for _, g := range r.rules {
			var tgt *target
			if g.name == "BenchmarkPack/host" {
				tgt = &target{500, false, "< 0.5 µs/event", false}
			}
			rows = append(rows, row{figure: "4", metric: g.name + " time", setup: "rules", value: median(g.nsPerOp), unit: "ns/event",
				format: "%.0f", target: tgt, reps: g.nsPerOp})
			rows = append(rows, row{figure: "4", metric: g.name + " allocations", setup: "rules", value: median(g.allocsPer), unit: "allocs/event",
				format: "%.2f", reps: g.allocsPer})
			rows = append(rows, row{figure: "4", metric: g.name + " bytes", setup: "rules", value: median(g.bPerOp), unit: "B/event",
				format: "%.0f", reps: g.bPerOp})
		}
	}
	if r.o.figures["5"] {
		for _, rate := range []int{1000, 10000} {
			lat, missing := r.latencies(rate)
			note := fmt.Sprintf("%d alerts", len(lat))
			if missing > 0 {
				note += fmt.Sprintf(", %d never arrived", missing)
			}
			set := fmt.Sprintf("agent at %d/s", rate)
			rows = append(rows, row{figure: "5", metric: "syscall to stored alert p50", setup: set, value: percentile(lat, 50), unit: "ms", format: "%.0f", note: note})
			rows = append(rows, row{figure: "5", metric: "syscall to stored alert p99", setup: set, value: percentile(lat, 99), unit: "ms", format: "%.0f",
				target: &target{250, false, "< 250 ms", false}, note: note})
		}
	}
	if r.o.figures["6"] {
		for _, rate := range []int{1000, 10000} {
			var cpu, rss, ev []float64
			for _, s := range r.steady {
				if s.rate == rate {
					cpu = append(cpu, s.cpu)
					rss = append(rss, float64(s.rssKiB)/1024)
					ev = append(ev, s.stored)
				}
			}
			set := fmt.Sprintf("agent at %d/s", rate)
			var cpuT, rssT *target
			if rate == 1000 {
				cpuT = &target{1, false, "< 1% of a core", false}
				rssT = &target{40, false, "< 40 MiB", false}
			}
			rows = append(rows, row{figure: "6", metric: "agent CPU", setup: set, value: median(cpu), unit: "% of a core", format: "%.2f", target: cpuT, reps: cpu,
				note: fmt.Sprintf("collector stored %.0f events/s (median)", median(ev))})
			rows = append(rows, row{figure: "6", metric: "agent RSS", setup: set, value: median(rss), unit: "MiB", format: "%.1f",
				target: rssT, reps: rss})
		}
	}
	return rows
}

// pipelineFigures returns per round the highest rate carried with zero loss
// and in step, and the offered rate of the first step that lost or lagged.
func (r *report) pipelineFigures(src string) (best, loss []float64) {
	for round := 1; round <= r.o.reps; round++ {
		b, l, seen := 0.0, math.NaN(), false
		for _, s := range r.steps {
			if s.round != round || s.source != src {
				continue
			}
			seen = true
			if s.verdict == stepOK || s.verdict == stepGen {
				if a := s.ackedRate(); !math.IsNaN(a) {
					b = max(b, a)
				}
			} else if math.IsNaN(l) {
				l = s.offered
			}
		}
		if !seen {
			continue
		}
		best = append(best, b)
		if !math.IsNaN(l) {
			loss = append(loss, l)
		}
	}
	return best, loss
}

// firstLossNote gives the counters of the first losing step of each round.
func (r *report) firstLossNote(src string) string {
	var notes []string
	for round := 1; round <= r.o.reps; round++ {
		for _, s := range r.steps {
			if s.round == round && s.source == src && s.verdict != stepOK && s.verdict != stepGen {
				notes = append(notes, fmt.Sprintf("round %d at %.0f/s: %s, kernel drops %d, unsent %d, collector loss %s",
					round, s.offered, s.verdict, s.kernelDrops, s.spooled, lostByReason(s.lost)))
				break
			}
		}
	}
	return strings.Join(notes, "; ")
}

// defaultSpoolFill estimates how long a burst at the probe's rate takes to
// fill the default 512 MiB spool: the backlog growth of the steps that fell
// behind at that rate, times the probe's bytes per spooled record.
func (r *report) defaultSpoolFill() time.Duration {
	pr := r.probe
	if pr == nil || pr.backlog == 0 {
		return 0
	}
	var growth []float64
	for _, s := range r.steps {
		if s.source == pr.source && s.target == pr.target && s.verdict == stepBehind {
			growth = append(growth, float64(s.spooled)/(r.o.stepSecs.Seconds()+1.5))
		}
	}
	g := median(growth)
	if len(growth) == 0 || g <= 0 {
		return 0
	}
	perRecord := float64(pr.backlogBytes) / float64(pr.backlog)
	return time.Duration(512 * (1 << 20) / (g * perRecord) * float64(time.Second))
}

func lostText(m map[string]float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%.0f", k, m[k]))
		}
	}
	if len(parts) == 0 {
		return "0 (the loss record waits behind the backlog)"
	}
	return strings.Join(parts, " ")
}

// agentMicrosPerEvent is per round the agent's CPU time per event at the
// highest sustained (or generator-bound) step.
func (r *report) agentMicrosPerEvent(src string) []float64 {
	var out []float64
	for round := 1; round <= r.o.reps; round++ {
		var best *stepSample
		for i := range r.steps {
			s := &r.steps[i]
			if s.round == round && s.source == src && (s.verdict == stepOK || s.verdict == stepGen) && (best == nil || s.offered > best.offered) {
				best = s
			}
		}
		if best != nil && best.offered > 0 {
			out = append(out, best.agentCPU/100/best.offered*1e6)
		}
	}
	return out
}

// collectorRates is per round the highest rate at which the collector
// stored alone after a step, and the highest while the step ran.
func (r *report) collectorRates() (alone, during []float64) {
	for round := 1; round <= r.o.reps; round++ {
		a, d := math.NaN(), 0.0
		for _, s := range r.steps {
			if s.round != round {
				continue
			}
			d = max(d, s.stored/(r.o.stepSecs.Seconds()+1.5))
			if x := s.drainRate(); !math.IsNaN(x) && (math.IsNaN(a) || x > a) {
				a = x
			}
		}
		if !math.IsNaN(a) {
			alone = append(alone, a)
		}
		if d > 0 {
			during = append(during, d)
		}
	}
	return alone, during
}

func (r *report) pipelineNote(src string) string {
	gen := 0
	for _, s := range r.steps {
		if s.source == src && s.verdict == stepGen {
			gen++
		}
	}
	if gen > 0 {
		return fmt.Sprintf("%d steps generator-bound: the 2 cores could not produce the offered rate alongside the agent and collector", gen)
	}
	return ""
}

// sourceText says in a few words what src offered.
func sourceText(src string) string {
	if src == srcRing {
		return "file.write records injected into the agent's ring"
	}
	return "files written by loadgen"
}

func (r *report) latencies(rate int) (ms []float64, missing int) {
	return latencies(r.triggers, rate)
}

func latencies(triggers []trigger, rate int) (ms []float64, missing int) {
	for _, t := range triggers {
		if t.rate != rate {
			continue
		}
		if t.missing {
			// Not stored within the grace period: later than any stored one.
			missing++
			ms = append(ms, math.Inf(1))
			continue
		}
		ms = append(ms, float64(t.stored.Sub(t.start))/float64(time.Millisecond))
	}
	return ms, missing
}

func join(v []float64, format string) string {
	var s []string
	for _, x := range v {
		s = append(s, fmt.Sprintf(format, x))
	}
	return strings.Join(s, " ")
}

func (r *report) write(dir string) error {
	rows := r.rows()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var c bytes.Buffer
	w := csv.NewWriter(&c)
	_ = w.Write([]string{"figure", "metric", "setup", "value", "unit", "target", "status", "gap", "repetitions", "note"})
	for _, x := range rows {
		tgt := ""
		if x.target != nil {
			tgt = x.target.text
		}
		_ = w.Write([]string{x.figure, x.metric, x.setup, strconv.FormatFloat(x.value, 'f', -1, 64), x.unit, tgt, x.status(), x.gap(),
			join(x.reps, x.format), x.note})
	}
	w.Flush()
	if err := w.Error(); err != nil { // the first failed Write, if any
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "benchmarks.csv"), c.Bytes(), 0o644); err != nil {
		return err
	}
	md, err := r.markdown(rows)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "benchmarks.md"), []byte(md), 0o644)
}

package main

import (
	"embed"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"text/template"
	"time"
)

// The report's words live in these templates; this file hands them figures.
//
//go:embed benchmarks.md.tmpl closers.md.tmpl
var templateFiles embed.FS

var reportTemplate = template.Must(template.ParseFS(templateFiles, "benchmarks.md.tmpl", "closers.md.tmpl"))

// markdownData is what benchmarks.md.tmpl renders.
type markdownData struct {
	Started                        time.Time
	Elapsed                        time.Duration
	Reps, PgbenchSeconds           int
	FixedSeconds, FixedRate        int
	FixedShare                     float64
	CalibrationTPS                 float64
	DrainLimit                     time.Duration
	LoopTime, StepTime, SteadyTime time.Duration
	Rates, RingRates               string
	AuditRules                     string
	Machine                        machineData
	Rows                           []rowData
	Overheads                      []overheadData
	Steps                          []stepData
	Probe                          *probeData
	AgentKilled, AgentStops        int
	BPF                            *bpfData
	Latencies                      []latencyData
	Steady                         []steadyData
	Rules                          []rulesData
	Profiles                       []profileData
}

type machineData struct {
	CPU, Kernel, OS, Go, Postgres, Auditd string
	NProc                                 int
	MemGiB                                float64
	LoadStart, LoadEnd                    string
}

type rowData struct {
	Figure, Metric, Setup, Value, Unit, Note, Target, Verdict string
	// Closer is what closers.md.tmpl says of a missed target.
	Closer string
}

type overheadData struct {
	Round              int
	Mode, Note         string
	TPS, Files, TCP    float64
	FixedTPS, CPUPerTx float64
	AgentPerTx         float64
	LatAvg, LatP99     float64
}

type stepData struct {
	Round, Target                 int
	Source, Lost, Verdict         string
	Offered, Stored, SharePercent float64
	Acked                         string
	AgentCPU, CollectorCPU        float64
	Records                       int64
	KernelDrops, Spooled          uint64
	Uncommitted                   uint64
	Drain                         string
}

type probeData struct {
	Target, SpoolMiB          int
	Offered, BacklogMiB       float64
	Source, CollectorLost     string
	SpoolDropped, KernelDrops uint64
	Backlog                   int64
}

type bpfData struct {
	Window                      time.Duration
	TotalSeconds, PercentOfCore float64
	Programs                    []bpfProgramData
}

type bpfProgramData struct {
	Name              string
	Runs              uint64
	Seconds, NsPerRun float64
}

type latencyData struct {
	Rate, Alerts, Missing         int
	P50, P90, P99, Max, KernelP50 string
}

type steadyData struct {
	Round, Rate                 int
	CPU, RSSMiB, HWMMiB, Stored float64
}

type rulesData struct{ Name, Ns, Bytes, Allocs string }

type profileData struct{ Label, Top string }

func (r *report) markdown(rows []row) (string, error) {
	var b strings.Builder
	if err := reportTemplate.ExecuteTemplate(&b, "benchmarks.md.tmpl", r.markdownData(rows)); err != nil {
		return "", fmt.Errorf("rendering benchmarks.md: %w", err)
	}
	return b.String(), nil
}

func (r *report) markdownData(rows []row) markdownData {
	m := r.machine
	d := markdownData{Started: m.started, Elapsed: r.elapsed.Round(time.Second), Reps: r.o.reps, PgbenchSeconds: r.o.pgSeconds,
		FixedSeconds: r.o.fixedSeconds, FixedRate: r.fixedRate, FixedShare: 100 * fixedRateShare, CalibrationTPS: r.calibrationTPS,
		DrainLimit: drainLimit, LoopTime: r.o.loopSecs, StepTime: r.o.stepSecs, SteadyTime: r.o.steadySec,
		Rates: join(intsToFloats(r.o.rates), "%.0f"), RingRates: join(intsToFloats(r.o.ringRates), "%.0f"), AuditRules: auditRulesText(),
		Machine: machineData{CPU: m.cpu, Kernel: m.kernel, OS: m.osRelease, Go: m.goVer, Postgres: m.postgres, Auditd: m.auditd,
			NProc: m.nproc, MemGiB: m.memGiB, LoadStart: m.loadStart, LoadEnd: m.loadEnd},
		AgentKilled: r.agentKilled, AgentStops: r.agentStops}
	for _, x := range rows {
		rd := rowData{Figure: x.figure, Metric: x.metric, Setup: x.setup, Value: x.fmt(x.value), Unit: x.unit, Note: x.note,
			Target: "—", Verdict: x.status()}
		if x.target != nil {
			rd.Target = x.target.text
			if g := x.gap(); g != "" {
				rd.Verdict = g
			}
		}
		d.Rows = append(d.Rows, rd)
	}
	for _, s := range r.overheads {
		d.Overheads = append(d.Overheads, overheadData{Round: s.round, Mode: s.mode, TPS: s.tps, Files: s.files, TCP: s.tcp,
			FixedTPS: s.fixed.tps, CPUPerTx: s.cpuPerTx(), AgentPerTx: s.agentPerTx(), LatAvg: s.fixed.latAvgMs, LatP99: s.fixed.latP99Ms,
			Note: strings.Trim(s.note(), "()")})
	}
	for _, s := range r.steps {
		d.Steps = append(d.Steps, stepData{Round: s.round, Source: s.source, Target: s.target, Offered: s.offered, Records: s.ops,
			KernelDrops: s.kernelDrops, Spooled: s.spooled, Stored: s.stored, SharePercent: 100 * s.collectorShare(),
			Lost: lostByReason(s.lost), AgentCPU: s.agentCPU, CollectorCPU: s.collectorCPU, Verdict: s.verdict,
			Acked: ackedText(s), Uncommitted: s.uncommitted, Drain: drainText(s)})
	}
	if pr := r.probe; pr != nil {
		d.Probe = &probeData{Target: pr.target, SpoolMiB: pr.spoolMiB, Offered: pr.offered, Source: sourceText(pr.source),
			SpoolDropped: pr.spoolDropped, KernelDrops: pr.kernelDrops, Backlog: pr.backlog,
			BacklogMiB: float64(pr.backlogBytes) / (1 << 20), CollectorLost: lostText(pr.collectorLost)}
	}
	if len(r.bpfStats) > 0 {
		bd := &bpfData{Window: r.bpfWindow.Round(100 * time.Millisecond), TotalSeconds: r.bpfTotal().Seconds(),
			PercentOfCore: 100 * r.bpfTotal().Seconds() / r.bpfWindow.Seconds()}
		for _, st := range r.bpfStats[:min(len(r.bpfStats), 10)] {
			bd.Programs = append(bd.Programs, bpfProgramData{Name: st.name, Runs: st.runs, Seconds: st.ns.Seconds(),
				NsPerRun: float64(st.ns) / float64(max(st.runs, 1))})
		}
		d.BPF = bd
	}
	for i, x := range rows {
		if x.target != nil && x.status() == "missed" {
			var b strings.Builder
			if err := reportTemplate.ExecuteTemplate(&b, "closer", r.closer(x, d.BPF)); err != nil {
				d.Rows[i].Closer = "(rendering this closer failed: " + err.Error() + ")"
				continue
			}
			d.Rows[i].Closer = strings.TrimSpace(b.String())
		}
	}
	if len(r.triggers) > 0 {
		for _, rate := range []int{1000, 10000} {
			lat, missing := r.latencies(rate)
			var k []float64
			for _, t := range r.triggers {
				if t.rate == rate && !t.missing {
					k = append(k, float64(t.stored.Sub(t.kernel))/float64(time.Millisecond))
				}
			}
			d.Latencies = append(d.Latencies, latencyData{Rate: rate, Alerts: len(lat), Missing: missing,
				P50: msText(percentile(lat, 50)), P90: msText(percentile(lat, 90)), P99: msText(percentile(lat, 99)),
				Max: msText(percentile(lat, 100)), KernelP50: msText(percentile(k, 50))})
		}
	}
	for _, s := range r.steady {
		d.Steady = append(d.Steady, steadyData{Round: s.round, Rate: s.rate, CPU: s.cpu, RSSMiB: float64(s.rssKiB) / 1024,
			HWMMiB: float64(s.hwmKiB) / 1024, Stored: s.stored})
	}
	for _, g := range r.rules {
		d.Rules = append(d.Rules, rulesData{Name: g.name, Ns: join(g.nsPerOp, "%.0f"), Bytes: join(g.bPerOp, "%.0f"),
			Allocs: join(g.allocsPer, "%.2f")})
	}
	for _, pr := range r.profiles {
		d.Profiles = append(d.Profiles, profileData{Label: pr.label, Top: trimProfile(pr.top)})
	}
	return d
}

// ackedText is the rate JetStream acknowledged in a step, or "?" when the
// agent was killed before it said how many events it emitted.
func ackedText(s stepSample) string {
	if a := s.ackedRate(); !math.IsNaN(a) {
		return fmt.Sprintf("%.0f", a)
	}
	return "?"
}

// drainText is the collector's rate alone after a step, or "—" when the
// step left it less than a second's storing.
func drainText(s stepSample) string {
	if r := s.drainRate(); !math.IsNaN(r) {
		return fmt.Sprintf("%.0f", r)
	}
	return "—"
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

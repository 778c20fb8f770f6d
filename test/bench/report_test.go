package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests cover the parsing and arithmetic the report rests on; they
// start nothing and run in milliseconds. The benchmark itself runs only
// through go run ./test/bench (make bench).

func TestMedianAndPercentile(t *testing.T) {
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median odd = %v", got)
	}
	if got := median([]float64{4, 1, 2, 3}); got != 2.5 {
		t.Errorf("median even = %v", got)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing should be NaN")
	}
	v := make([]float64, 100)
	for i := range v {
		v[i] = float64(100 - i)
	}
	if p := percentile(v, 99); p != 99 {
		t.Errorf("p99 = %v", p)
	}
	if p := percentile(v, 50); p != 50 {
		t.Errorf("p50 = %v", p)
	}
	if p := percentile([]float64{1, math.Inf(1)}, 99); !math.IsInf(p, 1) {
		t.Errorf("a missing alert must make p99 infinite, got %v", p)
	}
}

func TestParseStatTicks(t *testing.T) {
	stat := "4242 (vigil agent) S 1 4242 4242 0 -1 4194560 1234 0 0 0 150 25 0 0 20 0 12 0 100 0 0"
	n, err := parseStatTicks(stat)
	if err != nil || n != 175 {
		t.Fatalf("ticks = %d, %v; want 175", n, err)
	}
}

func TestParseLoadgenAndGoBench(t *testing.T) {
	r, err := parseLoadgen("ops=50000 seconds=5.001 rate=9998/s\n")
	if err != nil || r.ops != 50000 || r.rate != 9998 || r.ringFull != 0 {
		t.Fatalf("loadgen = %+v, %v", r, err)
	}
	r, err = parseLoadgen("ops=500000 seconds=5.020 rate=99602/s ring_full=1234\n")
	if err != nil || r.ops != 500000 || r.ringFull != 1234 {
		t.Fatalf("loadgen ring = %+v, %v", r, err)
	}
	out := `goos: linux
BenchmarkPack/host-2         	 2000000	       568.0 ns/op	         0.01000 alerts/event	       0 B/op	       0 allocs/op
BenchmarkPack/host-2         	 2000000	       600.0 ns/op	         0.01000 alerts/event	      16 B/op	       1 allocs/op
BenchmarkNonMatching-2       	 3000000	       346.0 ns/op	       0 B/op	       0 allocs/op
PASS`
	g := parseGoBench(out)
	if len(g) != 2 || g[0].name != "BenchmarkPack/host" || len(g[0].nsPerOp) != 2 || g[0].allocsPer[1] != 1 || g[1].bPerOp[0] != 0 {
		t.Fatalf("go bench = %+v", g)
	}
}

func TestSumPerCPU(t *testing.T) {
	withBTF := `[{"key":["0x00","0x00","0x00","0x00"],"values":[{"cpu":0,"value":["0x00"]}],"formatted":{"key":0,"values":[{"cpu":0,"value":3},{"cpu":1,"value":4}]}}]`
	if n, err := sumPerCPU(withBTF); err != nil || n != 7 {
		t.Errorf("formatted = %d, %v", n, err)
	}
	raw := `[{"key":["0x01","0x00","0x00","0x00"],"values":[{"cpu":0,"value":["0x01","0x01","0x00","0x00","0x00","0x00","0x00","0x00"]}]}]`
	if n, err := sumPerCPU(raw); err != nil || n != 257 {
		t.Errorf("raw = %d, %v", n, err)
	}
}

func TestParseAgentStop(t *testing.T) {
	log := `time=x level=WARN msg="closing with events left in the spool; they are sent on the next start" err="12 events still spooled: context deadline exceeded"
time=x level=INFO msg="vigil-agent stopped, probes detached" events=3151 kernel_drops="map[db:0 file:5 net:0 process:1]"`
	st, ok := parseAgentStop(log)
	if !ok || st.events != 3151 || st.dropsTotal != 6 || st.stillSpooled != 12 {
		t.Fatalf("stop = %+v, %v", st, ok)
	}
}

func TestClassifyStep(t *testing.T) {
	cases := []struct {
		s    stepSample
		want string
	}{
		{stepSample{target: 10000, offered: 9990}, stepOK},
		{stepSample{target: 10000, offered: 9990, kernelDrops: 1}, stepLoss},
		{stepSample{target: 10000, offered: 9990, lost: map[string]float64{"spool_full": 3}}, stepLoss},
		{stepSample{target: 10000, offered: 9990, spooled: 5000}, stepBehind},
		{stepSample{target: 40000, offered: 20000}, stepGen},
	}
	for _, c := range cases {
		c.s.classify()
		if c.s.verdict != c.want {
			t.Errorf("%+v: verdict %q, want %q", c.s, c.s.verdict, c.want)
		}
	}
}

func TestRowVerdict(t *testing.T) {
	r := row{value: 0.95, format: "%.3f", target: &target{0.97, true, "≥ 0.97", false}}
	if r.status() != "missed" || r.gap() != "missed by 0.020 (-2%)" {
		t.Errorf("status %q gap %q", r.status(), r.gap())
	}
	r = row{value: 400, format: "%.0f", target: &target{1000, false, "< 1 µs", false}}
	if r.status() != "met" || r.gap() != "met, margin 600 (-60%)" {
		t.Errorf("status %q gap %q", r.status(), r.gap())
	}
	r = row{value: math.Inf(1), format: "%.0f", target: &target{1000, false, "< 1 s", false}}
	if r.status() != "missed" || r.fmt(r.value) != "> 15000" {
		t.Errorf("status %q value %q", r.status(), r.fmt(r.value))
	}
}

// The spool's total is what counts: a line's count can carry again what a
// dropped loss record had reported.
func TestSpoolDroppedTakesTheLastTotal(t *testing.T) {
	log := `time=x level=WARN msg="spool full: oldest events dropped" count=100 total=100
time=y level=WARN msg="spool full: oldest events dropped" count=150 total=200
`
	if n := spoolDropped(log); n != 200 {
		t.Errorf("spoolDropped = %d, want 200", n)
	}
}

// Figure 3's rows are per source: the ring's steps do not lift the files'
// figure, and a source with no steps has no row.
func TestPipelineFiguresPerSource(t *testing.T) {
	r := &report{o: options{reps: 1, figures: map[string]bool{"3": true}}, steps: []stepSample{
		{round: 1, source: srcFiles, target: 30000, offered: 29990, ops: 149950, events: 149960, verdict: stepOK},
		{round: 1, source: srcFiles, target: 40000, offered: 33000, ops: 165000, events: 165010, verdict: stepGen},
		{round: 1, source: srcRing, target: 100000, offered: 99000, ops: 495000, events: 495010, verdict: stepOK},
		{round: 1, source: srcRing, target: 150000, offered: 149000, ops: 745000, kernelDrops: 5, verdict: stepLoss},
	}}
	best, loss := r.pipelineFigures(srcFiles)
	if fmt.Sprint(best, loss) != "[33000] []" {
		t.Errorf("files: best %v loss %v", best, loss)
	}
	best, loss = r.pipelineFigures(srcRing)
	if fmt.Sprint(best, loss) != "[99000] [149000]" {
		t.Errorf("ring: best %v loss %v", best, loss)
	}
	r.steps = r.steps[:2]
	for _, x := range r.rows() {
		if strings.Contains(x.setup, "injected") {
			t.Errorf("a row for a source with no steps: %+v", x)
		}
	}
}

var update = flag.Bool("update", false, "rewrite testdata/*.golden from what the report writes now")

// The report writes the same docs/benchmarks.md and .csv for the same
// figures: those of a full run, which reach every section and every
// closer, and of a run with sections left out.
func TestReportGolden(t *testing.T) {
	for name, r := range map[string]*report{"full": goldenReport(), "sparse": sparseReport()} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := r.write(dir); err != nil {
				t.Fatal(err)
			}
			for _, file := range []string{"benchmarks.md", "benchmarks.csv"} {
				got, err := os.ReadFile(filepath.Join(dir, file))
				if err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", name, file+".golden")
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					t.Errorf("%s differs from %s (go test ./test/bench -run TestReportGolden -update rewrites it): %s",
						file, golden, firstDiff(string(got), string(want)))
				}
			}
		})
	}
}

// firstDiff shows the first line where got and want part.
func firstDiff(got, want string) string {
	g, w := splitLines(got), splitLines(want)
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %q\nwant: %q", i+1, gl, wl)
		}
	}
	return "same lines, different bytes"
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

// goldenReport is a fixed run of two rounds in which every target is missed
// once, so that every closer is printed.
func goldenReport() *report {
	o := options{reps: 2, out: "docs", figures: map[string]bool{"1": true, "2": true, "3": true, "4": true, "5": true, "6": true},
		pgSeconds: 15, loopSecs: 5 * time.Second, stepSecs: 5 * time.Second, steadySec: 10 * time.Second,
		rates: []int{20000, 40000}, ringRates: []int{50000, 100000, 150000}}
	r := newReport(o)
	r.machine = machine{nproc: 2, memGiB: 3.8, kernel: "6.18.0-test", cpu: "Test CPU @ 2.0GHz", goVer: "go1.26.0",
		postgres: "postgres (PostgreSQL) 15.8", auditd: "auditctl version 3.0.9", loadStart: "2.18 2.52 2.11",
		loadEnd: "1.25 2.05 2.49", started: time.Date(2026, 11, 23, 5, 25, 0, 0, time.UTC), hostname: "bench-vm",
		osRelease: "Debian GNU/Linux 12 (bookworm)"}
	r.elapsed = 19*time.Minute + 55*time.Second + 300*time.Millisecond
	r.agentStops, r.agentKilled = 12, 2
	r.calibrationTPS, r.fixedRate = 3650, 2555
	fixed := func(f, lat float64) fixedRun {
		return fixedRun{tps: 2554 - f, transactions: 38300, latAvgMs: lat, latP99Ms: 4 * lat}
	}
	for round := 1; round <= 2; round++ {
		f := float64(round)
		r.overheads = append(r.overheads,
			overheadSample{round: round, mode: modeBaseline, tps: 3600 + 40*f, files: 57000 + 500*f, tcp: 14000 + 100*f,
				fixed: fixed(f, 1.5+0.1*f), busySec: 19.15 + 0.1*f},
			overheadSample{round: round, mode: modeAgent, tps: 3050 + 20*f, files: 37000 + 300*f, tcp: 10800 + 50*f,
				agentEvents: uint64(900000 * (2 - round)), agentDrops: uint64(round - 1), measured: round == 1,
				fixed: fixed(f, 1.9+0.1*f), busySec: 21.5 + 0.1*f, agentFixedSec: 0.61,
				agentCPU: [4]float64{6.8, 4.1, 35.2, 28.1}, collectorCPU: [4]float64{2.1, 1.5, 27.5, 9.9}},
			overheadSample{round: round, mode: modeAgentApart, tps: 3400 + 20*f, files: 40000 + 300*f, tcp: 11800 + 50*f,
				agentEvents: 880000, measured: true, fixed: fixed(f, 1.7+0.1*f), busySec: 20.9 + 0.1*f, apartSec: 1.1,
				agentFixedSec: 0.58, agentCPU: [4]float64{6.5, 3.8, 33.1, 27.0}, collectorCPU: [4]float64{2.0, 2.9, 26.0, 9.5}},
			overheadSample{round: round, mode: modeAuditd, tps: 3300 + 10*f, files: 10700 + 100*f, tcp: 8900 + 30*f,
				fixed: fixed(f, 1.6+0.1*f), busySec: 19.9 + 0.1*f,
				auditRecords: 1200000 + round, auditLost: uint64(3 * (round - 1))})
	}
	for round := 1; round <= 2; round++ {
		f := float64(round)
		r.steps = append(r.steps,
			stepSample{round: round, source: srcFiles, target: 20000, offered: 19990, ops: 99950, events: 99960, stored: 97000 + 100*f,
				lost: map[string]float64{}, agentCPU: 12.5, collectorCPU: 40, verdict: stepOK},
			stepSample{round: round, source: srcFiles, target: 40000, offered: 36562 - 10*f, ops: 182810, events: 182800,
				stored: 150000, lost: map[string]float64{}, agentCPU: 22.4, collectorCPU: 71.3, verdict: stepGen},
			stepSample{round: round, source: srcRing, target: 50000, offered: 49990, ops: 249950, events: 249980, stored: 140000, uncommitted: 109950,
				drained: 109950, drainTime: 3*time.Second + 100*time.Millisecond*time.Duration(round), drainCPU: 5.1,
				lost: map[string]float64{}, agentCPU: 22.9, collectorCPU: 88.1, verdict: stepOK},
			stepSample{round: round, source: srcRing, target: 100000, offered: 93000 + 1000*f, ops: 470000, events: 470020, spooled: 60000, uncommitted: 329000,
				stored: 141000, drained: 230000, drainTime: drainLimit, drainCPU: 14.2,
				lost: map[string]float64{}, agentCPU: 45.5, collectorCPU: 96, verdict: stepBehind},
			stepSample{round: round, source: srcRing, target: 150000, offered: 123871 + 20000*f, ops: 700000, kernelDrops: 69055,
				spooled: 5, stored: 139000, drained: 500, drainTime: 200 * time.Millisecond, lost: map[string]float64{"seq_gap": 12, "spool_full": 0}, agentCPU: 51,
				collectorCPU: 97.5, verdict: stepLoss})
	}
	r.probe = &lossProbeResult{source: srcRing, target: 100000, offered: 96270, ops: 1444050, spoolMiB: lossProbeSpoolMiB,
		spoolDropped: 614902, kernelDrops: 232657, backlog: 51234, backlogBytes: 16 << 20,
		collectorLost: map[string]float64{"seq_gap": 104231, "spool_full": 104231, "other": 0}}
	for i := range 12 {
		r.bpfStats = append(r.bpfStats, bpfStat{name: fmt.Sprintf("prog_%02d", i), runs: uint64(100000 - 5000*i),
			ns: time.Duration(900-60*i) * time.Millisecond})
	}
	r.bpfWindow = 8*time.Second + 40*time.Millisecond
	start := time.Date(2026, 11, 23, 5, 40, 0, 0, time.UTC)
	for i := range 8 {
		rate := []int{1000, 10000}[i%2]
		t0 := start.Add(time.Duration(i) * 500 * time.Millisecond)
		tr := trigger{rate: rate, pid: 5000 + i, start: t0, kernel: t0.Add(3 * time.Millisecond),
			stored: t0.Add(time.Duration(40+30*i) * time.Millisecond), seen: t0.Add(time.Duration(45+30*i) * time.Millisecond)}
		if i == 7 {
			tr = trigger{rate: rate, pid: 5000 + i, start: t0, missing: true}
		}
		r.triggers = append(r.triggers, tr)
	}
	for round := 1; round <= 2; round++ {
		f := float64(round)
		r.steady = append(r.steady,
			steadySample{round: round, rate: 1000, cpu: 1.9 + 0.4*f, rssKiB: 40960 + 1024*uint64(round), hwmKiB: 45000, stored: 1010},
			steadySample{round: round, rate: 10000, cpu: 9.5 + f, rssKiB: 66000 + 512*uint64(round), hwmKiB: 70000, stored: 10020})
	}
	r.rules = []goBench{
		{name: "BenchmarkPack/host", nsPerOp: []float64{1100, 1180}, bPerOp: []float64{16, 16}, allocsPer: []float64{0.25, 0.5}},
		{name: "BenchmarkNonMatching", nsPerOp: []float64{346, 350}, bPerOp: []float64{0, 0}, allocsPer: []float64{0, 0}},
	}
	r.profiles = []profileTop{
		{label: "pgbench (-c 4 -j 2)", key: "pgbench", top: "File: vigil-agent\nBuild ID: abc\nType: cpu\nMain binary: /tmp/x\n      flat  flat%   sum%        cum   cum%\n" +
			"     0.10s  5.00%  5.00%      1.20s 60.00%  runtime.main\n     0.30s 15.00% 20.00%      0.40s 20.00%  github.com/vigilhq/vigil/agent/db.(*folder).add\n"},
		{label: "1000 files/s", key: "files-1000", top: "Type: cpu\n     0.01s  1.00%  1.00%      0.50s 50.00%  agent.(*Agent).Run\n"},
		{label: "10000 files/s", key: "files-10000", top: "Type: cpu\n     0.20s 20.00% 20.00%      0.30s 30.00%  event.AppendJSON\n"},
		{label: "ring at 100000/s (the loss probe)", key: "pipeline-ring", top: "Type: cpu\n     0.40s 12.00% 12.00%      0.90s 27.00%  syscall.Syscall6\n"},
	}
	return r
}

// sparseReport is a run of figures 3 and 4 alone with no loss probe, no
// killed agent and no profiles.
func sparseReport() *report {
	full := goldenReport()
	o := full.o
	o.figures = map[string]bool{"3": true, "4": true}
	r := newReport(o)
	r.machine, r.elapsed, r.agentStops = full.machine, 3*time.Minute, 4
	r.steps, r.rules = full.steps[:2], full.rules
	return r
}

// The targets the bench prints are the product's goals, each on the row
// that measures it.
func TestTargetsAreTheGoals(t *testing.T) {
	want := map[string]string{
		"1/pgbench max TPS ratio/" + modeAgent:                                       "≥ 0.97 of baseline",
		"1/pgbench max TPS ratio/" + modeAgentApart:                                  "≥ 0.97 of baseline",
		"1/pgbench fixed-rate CPU overhead/" + modeAgent:                             "≤ 3%",
		"1/pgbench fixed-rate CPU overhead/" + modeAgentApart:                        "≤ 3%",
		"2/write loop ratio/" + modeAgent:                                            "≥ 0.90 of baseline",
		"3/ring → JetStream acknowledged with zero loss/" + modeAgent + ", injected": "≥ 200,000 events/s",
		"3/collector stored/vigil-collector":                                         "≥ 100,000 events/s on 2 cores",
		"4/BenchmarkPack/host time/rules":                                            "< 0.5 µs/event",
		"5/syscall to stored alert p99/agent at 1000/s":                              "< 250 ms",
		"6/agent CPU/agent at 1000/s":                                                "< 1% of a core",
		"6/agent RSS/agent at 1000/s":                                                "< 40 MiB",
	}
	got := map[string]string{}
	for _, x := range goldenReport().rows() {
		if x.target != nil {
			got[x.figure+"/"+x.metric+"/"+x.setup] = x.target.text
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: target %q, want %q", k, got[k], v)
		}
	}
}

// At a fixed rate the overhead is per round against that round's
// baseline, and the collector kept apart does not count.
func TestFixedRateOverhead(t *testing.T) {
	r := &report{o: options{reps: 1, figures: map[string]bool{"1": true}}, fixedRate: 100, calibrationTPS: 143, overheads: []overheadSample{
		{round: 1, mode: modeBaseline, busySec: 10, fixed: fixedRun{transactions: 1000}},
		{round: 1, mode: modeAgent, busySec: 10.5, fixed: fixedRun{transactions: 1000}, measured: true, agentFixedSec: 0.2},
		{round: 1, mode: modeAgentApart, busySec: 11.2, apartSec: 0.9, fixed: fixedRun{transactions: 1000}, measured: true},
	}}
	got := map[string]row{}
	for _, x := range r.fixedRateRows() {
		got[x.metric+"/"+x.setup] = x
	}
	for k, want := range map[string]float64{
		"pgbench fixed-rate CPU per transaction/" + modeBaseline:    10000,
		"pgbench fixed-rate CPU overhead/" + modeAgent:              5,
		"pgbench fixed-rate CPU overhead/" + modeAgentApart:         3,
		"pgbench fixed-rate agent CPU per transaction/" + modeAgent: 200,
	} {
		if x, ok := got[k]; !ok || math.Abs(x.value-want) > 1e-9 {
			t.Errorf("%s = %v (row found %v), want %v", k, x.value, ok, want)
		}
	}
	if x := got["pgbench fixed-rate CPU overhead/"+modeAgentApart]; x.status() != "met" {
		t.Errorf("3%% against ≤ 3%%: %s", x.status())
	}
	if x := got["pgbench fixed-rate CPU overhead/"+modeAgent]; x.status() != "missed" {
		t.Errorf("5%% against ≤ 3%%: %s", x.status())
	}
}

// The ring's figure is what JetStream acknowledged, and the collector's is
// its rate alone after a step, not while the step shared the cores.
func TestPipelineEndsApart(t *testing.T) {
	r := &report{o: options{reps: 1, stepSecs: 5 * time.Second, figures: map[string]bool{"3": true}}, steps: []stepSample{
		{round: 1, source: srcRing, target: 200000, offered: 200000, ops: 1000000, events: 1000020, spooled: 100000, stored: 150000,
			drained: 400000, drainTime: 4 * time.Second, verdict: stepOK},
		{round: 1, source: srcRing, target: 300000, offered: 300000, ops: 1500000, kernelDrops: 10, stored: 150000,
			drained: 100, drainTime: 100 * time.Millisecond, verdict: stepLoss},
	}}
	best, _ := r.pipelineFigures(srcRing)
	if fmt.Sprint(best) != "[180000]" {
		t.Errorf("ring → JetStream acked = %v, want [180000] (offered × the share acked)", best)
	}
	// Records the agent never read are neither dropped nor spooled: what
	// it emitted bounds what was acknowledged, and a killed agent says
	// nothing.
	r.steps[0].events = 500000
	if best, _ := r.pipelineFigures(srcRing); fmt.Sprint(best) != "[80000]" {
		t.Errorf("ring → JetStream acked with 500000 events emitted = %v, want [80000]", best)
	}
	r.steps[0].events = 0
	if best, _ := r.pipelineFigures(srcRing); fmt.Sprint(best) != "[0]" {
		t.Errorf("ring → JetStream acked with the agent killed = %v, want [0]", best)
	}
	alone, during := r.collectorRates()
	if fmt.Sprint(alone, during) != "[100000] [23076.923076923078]" {
		t.Errorf("collector alone %v during %v", alone, during)
	}
}

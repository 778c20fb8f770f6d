package main

import (
	"fmt"
	"math"
	"strings"
	"testing"
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
	r := row{value: 0.95, format: "%.3f", target: &target{0.97, true, "≥ 0.97"}}
	if r.status() != "missed" || r.gap() != "missed by 0.020 (-2%)" {
		t.Errorf("status %q gap %q", r.status(), r.gap())
	}
	r = row{value: 400, format: "%.0f", target: &target{1000, false, "< 1 µs"}}
	if r.status() != "met" || r.gap() != "met, margin 600 (-60%)" {
		t.Errorf("status %q gap %q", r.status(), r.gap())
	}
	r = row{value: math.Inf(1), format: "%.0f", target: &target{1000, false, "< 1 s"}}
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
		{round: 1, source: srcFiles, target: 30000, offered: 29990, verdict: stepOK},
		{round: 1, source: srcFiles, target: 40000, offered: 33000, verdict: stepGen},
		{round: 1, source: srcRing, target: 100000, offered: 99000, verdict: stepOK},
		{round: 1, source: srcRing, target: 150000, offered: 149000, kernelDrops: 5, verdict: stepLoss},
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

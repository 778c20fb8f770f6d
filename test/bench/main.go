package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type options struct {
	reps      int
	out       string
	figures   map[string]bool
	pgSeconds int
	// fixedSeconds is the length of one fixed-rate pgbench run.
	fixedSeconds int
	loopSecs     time.Duration
	stepSecs     time.Duration
	steadySec    time.Duration
	rates        []int
	ringRates    []int
	keep         bool
	install      bool
	repo         string
}

func main() {
	log.SetFlags(log.Ltime)
	log.SetPrefix("bench: ")
	o := defaultOptions()
	figs := flag.String("figures", "1,2,3,4,5,6", "figures to measure (5 and 6 run together)")
	flag.IntVar(&o.reps, "reps", o.reps, "repetitions per figure (3 keeps the whole run near 30 minutes on 2 cores)")
	flag.StringVar(&o.out, "out", o.out, "directory for benchmarks.md and benchmarks.csv")
	flag.IntVar(&o.pgSeconds, "pgbench-seconds", o.pgSeconds, "length of one pgbench run as fast as it goes")
	flag.IntVar(&o.fixedSeconds, "pgbench-fixed-seconds", o.fixedSeconds, "length of one pgbench run at the fixed rate (-R)")
	flag.DurationVar(&o.loopSecs, "loop", o.loopSecs, "length of one write or transfer loop")
	flag.DurationVar(&o.stepSecs, "step", o.stepSecs, "length of one pipeline rate step")
	flag.DurationVar(&o.steadySec, "steady", o.steadySec, "length of one steady-rate CPU/RSS/latency window")
	rates := flag.String("rates", join(intsToFloats(o.rates), "%.0f"), "pipeline rate steps written as files, events/s (space or comma separated)")
	ringRates := flag.String("ring-rates", join(intsToFloats(o.ringRates), "%.0f"), "pipeline rate steps injected into the agent's ring, events/s")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs, profiles) for inspection")
	flag.BoolVar(&o.install, "install", true, "install missing Debian packages (auditd) with apt-get before measuring")
	flag.Parse()
	o.figures = map[string]bool{}
	for _, f := range strings.Split(*figs, ",") {
		o.figures[strings.TrimSpace(f)] = true
	}
	o.rates = parseRates("-rates", *rates)
	o.ringRates = parseRates("-ring-rates", *ringRates)
	var err error
	if o.repo, err = os.Getwd(); err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stat("go.mod"); err != nil {
		log.Fatal("run from the repository root (go run ./test/bench)")
	}
	if missing := checkPrerequisites(o); len(missing) > 0 {
		fmt.Fprintln(os.Stderr, "bench: missing prerequisites:")
		for _, m := range missing {
			fmt.Fprintln(os.Stderr, "  -", m)
		}
		os.Exit(2)
	}

	log.Printf("figures %s, %d rounds: about %s on a 2-core machine", *figs, o.reps, estimate(o).Round(time.Minute))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	b, err := newBench(ctx, o)
	if err != nil {
		log.Fatal(err)
	}
	code := 0
	if err := b.run(); err != nil {
		log.Print(err)
		code = 1
	}
	b.close()
	os.Exit(code)
}

// defaultOptions are what make bench measures: all of it within about 30
// minutes on a 2-core machine (TestDefaultRunFitsHalfAnHour).
func defaultOptions() options {
	return options{reps: 3, out: "docs", pgSeconds: 10, fixedSeconds: 15, loopSecs: 5 * time.Second, stepSecs: 5 * time.Second,
		steadySec: 10 * time.Second, rates: []int{5000, 10000, 20000, 30000, 40000, 60000},
		ringRates: []int{50000, 100000, 150000, 200000, 250000, 300000, 400000},
		figures:   map[string]bool{"1": true, "2": true, "3": true, "4": true, "5": true, "6": true}}
}

func parseRates(flagName, list string) []int {
	var out []int
	for _, r := range strings.FieldsFunc(list, func(c rune) bool { return c == ',' || c == ' ' }) {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(r), "%d", &n); err != nil || n <= 0 {
			log.Fatalf("%s: %q is not a rate", flagName, r)
		}
		out = append(out, n)
	}
	return out
}

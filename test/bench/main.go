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
	loopSecs  time.Duration
	stepSecs  time.Duration
	steadySec time.Duration
	rates     []int
	ringRates []int
	keep      bool
	repo      string
}

func main() {
	log.SetFlags(log.Ltime)
	log.SetPrefix("bench: ")
	var o options
	figs := flag.String("figures", "1,2,3,4,5,6", "figures to measure (5 and 6 run together)")
	flag.IntVar(&o.reps, "reps", 5, "repetitions per figure (at least 5 for the published table)")
	flag.StringVar(&o.out, "out", "docs", "directory for benchmarks.md and benchmarks.csv")
	flag.IntVar(&o.pgSeconds, "pgbench-seconds", 15, "length of one pgbench run")
	flag.DurationVar(&o.loopSecs, "loop", 5*time.Second, "length of one write or transfer loop")
	flag.DurationVar(&o.stepSecs, "step", 5*time.Second, "length of one pipeline rate step")
	flag.DurationVar(&o.steadySec, "steady", 10*time.Second, "length of one steady-rate CPU/RSS/latency window")
	rates := flag.String("rates", "5000,10000,20000,30000,40000,60000,80000,100000,120000", "pipeline rate steps written as files, events/s")
	ringRates := flag.String("ring-rates", "50000,75000,100000,125000,150000,200000", "pipeline rate steps injected into the agent's ring, events/s")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs, profiles) for inspection")
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

func parseRates(flagName, list string) []int {
	var out []int
	for _, r := range strings.Split(list, ",") {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(r), "%d", &n); err != nil || n <= 0 {
			log.Fatalf("%s: %q is not a rate", flagName, r)
		}
		out = append(out, n)
	}
	return out
}

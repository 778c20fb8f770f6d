package main

import "time"

// Rough fixed costs of the bench's steps on a 2-core machine, from its own
// logs: starting an agent and its collector, stopping them, and waiting
// for a collector to catch up between workloads.
const (
	siteStart    = 4 * time.Second
	siteStop     = 3 * time.Second
	workloadGap  = 2 * time.Second
	pgbenchSetup = 40 * time.Second // initdb, start, pgbench -i -s 10
	rulesRun     = 20 * time.Second // per -count of the rules benchmarks
	buildTime    = 60 * time.Second
)

// estimate is how long a run with o takes when every pipeline series
// climbs to its last step (the worst case): what make bench promises.
func estimate(o options) time.Duration {
	total := buildTime
	if o.figures["1"] || o.figures["2"] {
		var round time.Duration
		if o.figures["1"] {
			total += pgbenchSetup + secs(o.pgSeconds) + 20*time.Second // the calibration and the profile
			round += secs(o.pgSeconds) + secs(o.fixedSeconds) + 2*workloadGap
		}
		if o.figures["2"] {
			round += 2 * (o.loopSecs + workloadGap)
		}
		// Four set-ups, three of which start and stop something.
		total += time.Duration(o.reps) * (4*round + 3*(siteStart+siteStop))
	}
	if o.figures["3"] {
		step := siteStart + o.stepSecs + 1500*time.Millisecond + siteStop + drainLimit
		total += time.Duration(o.reps*(len(o.rates)+len(o.ringRates))) * step
		total += siteStart + 15*time.Second + siteStop // the loss probe
	}
	if o.figures["5"] || o.figures["6"] {
		window := siteStart + 2*time.Second + o.steadySec + alertGrace/3 + siteStop
		total += time.Duration(o.reps*2)*window + siteStart + 2*11*time.Second + siteStop
	}
	if o.figures["4"] {
		total += time.Duration(o.reps) * rulesRun
	}
	return total
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// closerData is what closers.md.tmpl says of a missed target: the row's
// own figures and the run's evidence for it, so the text is this run's.
type closerData struct {
	Key             string // figure/metric
	Value, Target   string
	Profile         string         // the label of the profile read, if any
	Top             []profileEntry // its entries with the most own time
	BPF             []bpfProgramData
	BPFPercent      float64 // the agent's BPF programs, % of a core, under pgbench
	AgentCPU        string  // the agent's CPU in the set-up the row measures
	CollectorCPU    string
	PerEvent        string // the agent's CPU per event at its best step
	CollectorPerEvt string // the collector's CPU per stored event, alone
	FirstLoss       string // the counters of the first step that lost or lagged
	Steady          string // figure 6's CPU and RSS at the row's rate
	Latency         string // figure 5's split of the latency
	Rules           string
}

// profileEntry is one function of a pprof -top listing.
type profileEntry struct {
	Name            string
	FlatPct, CumPct float64
}

// topEntries is up to n entries of a pprof -top listing with the most own
// (flat) time, most first.
func topEntries(top string, n int) []profileEntry {
	var out []profileEntry
	for _, l := range strings.Split(top, "\n") {
		f := strings.Fields(l)
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") || !strings.HasSuffix(f[4], "%") {
			continue
		}
		flat, err1 := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		cum, err2 := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, profileEntry{Name: strings.Join(f[5:], " "), FlatPct: flat, CumPct: cum})
	}
	slices.SortStableFunc(out, func(a, b profileEntry) int {
		switch {
		case a.FlatPct > b.FlatPct:
			return -1
		case a.FlatPct < b.FlatPct:
			return 1
		}
		return 0
	})
	return out[:min(n, len(out))]
}

// closerProfile names the profile a figure's closer reads.
func closerProfile(figure, metric string) string {
	switch {
	case figure == "1":
		return "pgbench"
	case figure == "2", figure == "6" && strings.Contains(metric, "10000"):
		return "files-10000"
	case figure == "6":
		return "files-1000"
	case figure == "3" && strings.HasPrefix(metric, "ring"):
		return "pipeline-" + srcRing
	case figure == "3":
		return "pipeline-" + srcFiles
	}
	return ""
}

// closer gathers the evidence for row x, missed.
func (r *report) closer(x row, bpf *bpfData) closerData {
	c := closerData{Key: x.figure + "/" + x.metric, Value: x.fmt(x.value) + " " + x.unit, Target: x.target.text}
	key := closerProfile(x.figure, x.metric+" "+x.setup)
	for _, p := range r.profiles {
		if p.key == key {
			c.Profile, c.Top = p.label, topEntries(p.top, 5)
		}
	}
	if bpf != nil && x.figure == "1" {
		c.BPF, c.BPFPercent = bpf.Programs[:min(3, len(bpf.Programs))], bpf.PercentOfCore
	}
	switch x.figure {
	case "1", "2":
		i := map[string]int{"pgbench max TPS ratio": 0, "pgbench fixed-rate CPU overhead": 1, "write loop ratio": 2}[x.metric]
		var a, col []float64
		for _, s := range r.overheads {
			if s.mode == x.setup && s.measured {
				a, col = append(a, s.agentCPU[i]), append(col, s.collectorCPU[i])
			}
		}
		if len(a) > 0 {
			c.AgentCPU, c.CollectorCPU = fmt.Sprintf("%.1f%% of a core", median(a)), fmt.Sprintf("%.1f%% of a core", median(col))
		}
	case "3":
		src := srcFiles
		if strings.HasPrefix(x.metric, "ring") {
			src = srcRing
		}
		if us := r.agentMicrosPerEvent(src); len(us) > 0 {
			c.PerEvent = fmt.Sprintf("%.1f µs of agent CPU per event, %.0f events/s on one core", median(us), 1e6/median(us))
		}
		c.FirstLoss = r.firstLossNote(src)
		var per []float64
		for _, s := range r.steps {
			if !math.IsNaN(s.drainRate()) && s.drained > 0 {
				per = append(per, s.drainCPU/s.drained*1e6)
			}
		}
		if len(per) > 0 {
			m := median(per)
			c.CollectorPerEvt = fmt.Sprintf("%.1f µs of collector CPU per stored event, %.0f events/s on 2 cores at that cost", m, 2e6/m)
		}
	case "4":
		for _, g := range r.rules {
			c.Rules += fmt.Sprintf("%s %.0f ns, %.2f allocations, %.0f B per event; ", g.name, median(g.nsPerOp), median(g.allocsPer), median(g.bPerOp))
		}
		c.Rules = strings.TrimSuffix(c.Rules, "; ")
	case "5":
		for _, rate := range []int{1000, 10000} {
			lat, missing := r.latencies(rate)
			var k []float64
			for _, t := range r.triggers {
				if t.rate == rate && !t.missing {
					k = append(k, float64(t.kernel.Sub(t.start))/float64(time.Millisecond))
				}
			}
			c.Latency += fmt.Sprintf("at %d files/s p50 %s ms, p99 %s ms, start → kernel exec stamp p50 %s ms, %d never stored; ",
				rate, msText(percentile(lat, 50)), msText(percentile(lat, 99)), msText(percentile(k, 50)), missing)
		}
		c.Latency = strings.TrimSuffix(c.Latency, "; ")
	case "6":
		for _, s := range r.steady {
			if fmt.Sprintf("agent at %d/s", s.rate) == x.setup {
				c.Steady += fmt.Sprintf("round %d: %.2f%% of a core, RSS %.1f MiB (VmHWM %.1f); ", s.round, s.cpu,
					float64(s.rssKiB)/1024, float64(s.hwmKiB)/1024)
			}
		}
		c.Steady = strings.TrimSuffix(c.Steady, "; ")
	}
	return c
}

package agent

import (
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v3/process"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/event"
)

// Heartbeat describes the agent for a heartbeat sent every interval, with
// the self-check of its probes and the canary's; an interval of 0 says the agent is
// stopping, and whether its host is shutting down.
func (a *Agent) Heartbeat(interval time.Duration) *event.Heartbeat {
	st := a.Stats()
	hb := &event.Heartbeat{
		IntervalS: uint32((interval + time.Second - 1) / time.Second), Events: st.Events, KernelDrops: st.KernelDrops,
		Sensors: a.Sensors(), Version: a.opts.Version, KernelVersion: sensor.KernelRelease(),
	}
	if hb.Sensors == nil {
		hb.Sensors = []string{}
	}
	a.mu.Lock()
	set := a.set
	a.mu.Unlock()
	switch {
	case interval == 0:
		hb.HostShutdown = a.hostShutdown()
	case set == nil:
		hb.Starting = true
	default:
		hb.Detached = set.Detached()
		if len(hb.Detached) > 0 {
			a.opts.Logger.Error("probes of this agent found detached", "probes", hb.Detached)
		}
		// With a probe detached the canary would only wait out that
		// path's silence and hold this heartbeat's report back; the
		// detachment is the finding.
		if a.opts.SelfCheckDir != "" && len(hb.Detached) == 0 {
			hb.Blind = set.Canary(a.opts.SelfCheckDir, sensor.CanaryWait)
			if len(hb.Blind) > 0 {
				a.opts.Logger.Error("sensors of this agent found blind to its canary", "paths", hb.Blind)
			}
		}
	}
	if a.opts.RuleSetHash != nil {
		hb.RuleSetHash = a.opts.RuleSetHash()
	}
	if s, ok := a.opts.Sink.(Spooler); ok {
		hb.SpoolDepth, hb.SpoolDropped = s.Spool()
	}
	hb.CPUPercent, hb.RSSBytes = a.self.read()
	hb.DNSRefused = a.refusedAnswers()
	return hb
}

// answerRefuser is a sensor that refuses DNS answers naming nothing it
// can trust (the net sensor).
type answerRefuser interface {
	RefusedAnswers() (map[string]uint64, error)
}

// refusedAnswers sums the DNS answers the running sensors refused, by
// reason; nil when none runs that refuses any.
func (a *Agent) refusedAnswers() map[string]uint64 {
	var out map[string]uint64
	for _, sn := range a.opts.Sensors {
		r, ok := sn.(answerRefuser)
		if !ok {
			continue
		}
		n, err := r.RefusedAnswers()
		if err != nil {
			continue // not running: the heartbeat's sensors say so
		}
		if out == nil {
			out = map[string]uint64{}
		}
		for reason, v := range n {
			out[reason] += v
		}
	}
	return out
}

// hostShutdown asks whether the host is shutting down, for the last
// heartbeat, and logs what said so.
func (a *Agent) hostShutdown() bool {
	check := a.opts.HostShutdown
	if check == nil {
		check = ShutdownCheck{}.ShuttingDown
	}
	down, why := check()
	a.opts.Logger.Info("stopping", "host_shutdown", down, "because", why)
	return down
}

// selfStats reads the agent's own CPU and memory use.
type selfStats struct {
	mu   sync.Mutex
	proc *process.Process // nil: cannot be read
}

func newSelfStats(log *slog.Logger) *selfStats {
	proc, err := process.NewProcess(int32(os.Getpid()))
	if err != nil {
		log.Warn("cannot read own CPU and memory", "err", err)
		proc = nil
	}
	return &selfStats{proc: proc}
}

// read returns the share of the host's CPU used since the last read, and
// the resident memory.
func (s *selfStats) read() (cpuPercent float64, rss uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0, 0
	}
	if cpu, err := s.proc.Percent(0); err == nil {
		cpuPercent = cpu / float64(runtime.NumCPU())
	}
	if mi, err := s.proc.MemoryInfo(); err == nil {
		rss = mi.RSS
	}
	return cpuPercent, rss
}

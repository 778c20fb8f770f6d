package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigilhq/vigil/internal/testproc"
)

// agent is a running vigil-agent.
type agent struct {
	*testproc.Agent
}

// agentStopped is what the agent logs when it stops.
type agentStopped struct {
	events       uint64
	kernelDrops  string // as logged: map[db:0 file:0 ...]
	dropsTotal   uint64
	stillSpooled uint64 // events the publisher had not handed to JetStream after its drain timeout
	killed       bool   // it did not exit on SIGINT in time
}

func (b *bench) writeAgentConfig() error {
	state := filepath.Join(b.site, "agent")
	spoolLimit := ""
	if b.spoolMaxMiB > 0 {
		spoolLimit = fmt.Sprintf("  spool_max_mib = %d\n", b.spoolMaxMiB)
	}
	ports := "5432, 3306"
	if b.pg != nil {
		ports += fmt.Sprintf(", %d", b.pg.port)
	}
	cfg := fmt.Sprintf(`# vigil-agent for make bench: the default pack, publishing to the local collector.
site      = "bench"
agent_id  = %q
state_dir = %q
rules_dir = %q

# Loopback traffic is all a one-machine benchmark has: watch it like any other.
net {
  include_loopback = true
}

db {
  ports = [%s]
}

collector {
  url       = "nats://127.0.0.1:%d"
  creds     = %q
  spool_dir = %q
%s}
`, b.agentID(), state, b.packs(), ports, b.natsPort, b.creds, filepath.Join(state, "spool"), spoolLimit)
	b.agentConfig = filepath.Join(b.site, "agent.hcl")
	return os.WriteFile(b.agentConfig, []byte(cfg), 0o600)
}

// startAgent starts the site's agent, serving its profiles when withPprof.
func (b *bench) startAgent(withPprof bool) (*agent, error) {
	o := testproc.AgentOptions{Bin: filepath.Join(b.bin, "vigil-agent"), Config: b.agentConfig, Sensors: 4,
		OwnProcessGroup: true, Log: filepath.Join(b.site, fmt.Sprintf("agent-%d.log", time.Now().UnixNano()))}
	if withPprof {
		port, err := testproc.FindFreePort()
		if err != nil {
			return nil, err
		}
		o.Pprof = fmt.Sprintf("127.0.0.1:%d", port)
	}
	a, err := testproc.StartAgent(b.ctx, o)
	if err != nil {
		return nil, err
	}
	// The sensors run before the agent has finished starting: probing the
	// TLS libraries of every program found (seconds on a machine full of
	// Go binaries) comes first, and a load offered meanwhile measures
	// that. Dropping its capabilities is the agent's last start-up step.
	if err := a.WaitLog(b.ctx, time.Minute, func(s string) bool { return strings.Contains(s, `msg="capabilities dropped"`) }); err != nil {
		a.Stop(syscall.SIGKILL, 0)
		return nil, fmt.Errorf("waiting for the agent to finish starting: %w", err)
	}
	if n := a.SensorsNotRunning(); n > 0 {
		log.Printf("warning: %d agent sensors cannot run here: %s", n, a.LogPath)
	}
	return &agent{a}, nil
}

var (
	stoppedRe = regexp.MustCompile(`vigil-agent stopped, probes detached" events=(\d+) kernel_drops="?(map\[[^\]]*\])`)
	spooledRe = regexp.MustCompile(`(\d+) events still spooled`)
	dropRe    = regexp.MustCompile(`:(\d+)`)
)

func parseAgentStop(log string) (agentStopped, bool) {
	m := stoppedRe.FindStringSubmatch(log)
	if m == nil {
		return agentStopped{}, false
	}
	st := agentStopped{kernelDrops: m[2]}
	st.events, _ = strconv.ParseUint(m[1], 10, 64)
	for _, d := range dropRe.FindAllStringSubmatch(m[2], -1) {
		n, _ := strconv.ParseUint(d[1], 10, 64)
		st.dropsTotal += n
	}
	if m := spooledRe.FindStringSubmatch(log); m != nil {
		st.stillSpooled, _ = strconv.ParseUint(m[1], 10, 64)
	}
	return st, true
}

func (a *agent) stop() agentStopped {
	if a == nil {
		return agentStopped{}
	}
	killed := stopUnlessIdle(a.Proc, syscall.SIGINT, agentStopWait)
	st, ok := parseAgentStop(a.Log())
	if !ok {
		st = agentStopped{kernelDrops: "unknown: no stop line"}
	}
	st.killed = killed
	return st
}

// agentStopWait bounds how long the agent may take to exit on SIGINT: its
// publisher drains for up to 5 s first.
const agentStopWait = 12 * time.Second

// stopUnlessIdle is Proc.Stop, but it kills the process early once it has
// used no CPU for 1.5 s after sig, since it is then stuck, not draining.
func stopUnlessIdle(p *testproc.Proc, sig syscall.Signal, d time.Duration) (killed bool) {
	if p.Exited() {
		return false
	}
	p.Signal(sig)
	deadline := time.Now().Add(d)
	last, _ := sampleProc(p.Pid())
	idle := 0
	for time.Now().Before(deadline) {
		select {
		case <-p.Done():
			return false
		case <-time.After(500 * time.Millisecond):
		}
		now, err := sampleProc(p.Pid())
		if err != nil {
			continue
		}
		if now.cpuTicks == last.cpuTicks {
			idle++
		} else {
			idle = 0
		}
		last = now
		if idle >= 3 {
			break
		}
	}
	p.Stop(syscall.SIGKILL, 0)
	return true
}

var spoolFullRe = regexp.MustCompile(`msg="spool full: oldest events dropped" count=\d+ total=(\d+)`)

// spoolDropped is the last total the agent logged for its full spool, since
// summing each line's count would count again what a dropped loss record
// carried.
func spoolDropped(agentLog string) uint64 {
	var n uint64
	for _, m := range spoolFullRe.FindAllStringSubmatch(agentLog, -1) {
		c, _ := strconv.ParseUint(m[1], 10, 64)
		n = max(n, c)
	}
	return n
}

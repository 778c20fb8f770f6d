package testproc

import (
	"cmp"
	"context"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// AgentOptions describe one vigil-agent process.
type AgentOptions struct {
	// Bin is the vigil-agent binary.
	Bin    string
	Config string
	// Pprof, when set, is the address the agent serves its profiles on.
	Pprof string
	// Sensors is how many sensors the config turns on: the agent is ready
	// once each has logged whether it runs.
	Sensors int
	// OwnProcessGroup: see CollectorOptions.
	OwnProcessGroup bool
	Log             string
	// Wait bounds the wait for the sensors (default a minute).
	Wait time.Duration
	// Under is a command line the agent runs under, such as setpriv
	// limiting its capabilities as the packaged unit does (none: as is).
	Under []string
}

// Agent is a running vigil-agent.
type Agent struct {
	*Proc
	Pprof string
}

// The agent's log messages for a sensor that runs and one that cannot.
const (
	sensorRunning   = `msg="sensor running"`
	sensorCannotRun = `msg="sensor cannot run"`
)

// StartAgent runs vigil-agent run with the config and returns once every
// sensor has said whether it runs.
func StartAgent(ctx context.Context, o AgentOptions) (*Agent, error) {
	args := []string{"run", "--config", o.Config}
	if o.Pprof != "" {
		args = append(args, "--pprof", o.Pprof)
	}
	cmd := exec.Command(o.Bin, args...)
	if len(o.Under) > 0 {
		cmd = exec.Command(o.Under[0], append(append(o.Under[1:len(o.Under):len(o.Under)], o.Bin), args...)...)
	}
	if o.OwnProcessGroup {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	p, err := Start(cmd, o.Log)
	if err != nil {
		return nil, err
	}
	p.Name = "vigil-agent"
	err = p.WaitLog(ctx, cmp.Or(o.Wait, time.Minute), func(log string) bool {
		return strings.Count(log, sensorRunning)+strings.Count(log, sensorCannotRun) >= o.Sensors
	})
	if err != nil {
		p.Stop(syscall.SIGTERM, stopGrace)
		return nil, err
	}
	return &Agent{Proc: p, Pprof: o.Pprof}, nil
}

// SensorsNotRunning counts the sensors the agent said cannot run.
func (a *Agent) SensorsNotRunning() int {
	return strings.Count(a.Log(), sensorCannotRun)
}

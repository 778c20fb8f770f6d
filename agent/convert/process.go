package convert

import (
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/event"
)

func (c *Converter) exec(r *sensor.Exec) *event.Event {
	p := c.procs.Exec(r)
	return &event.Event{Time: c.clock.Time(r.TS), Kind: event.KindProcessExec, Process: &p}
}

func (c *Converter) exit(r *sensor.Exit) *event.Event {
	p := c.procs.Exit(r)
	// The wait status: exit code in the second byte, signal in the low seven bits.
	code, sig := r.ExitCode>>8&0xff, r.ExitCode&0x7f
	return &event.Event{Time: c.clock.Time(r.TS), Kind: event.KindProcessExit, Process: &p,
		Exit: &event.Exit{Code: code, Signal: sig}}
}

package agent

import (
	"errors"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/event"
)

// spoolSink is a sink with a spool of given figures.
type spoolSink struct {
	collectSink
	depth, dropped uint64
}

func (s *spoolSink) Spool() (uint64, uint64) { return s.depth, s.dropped }

// A heartbeat carries the agent's counters, version, rule set, the sink's
// spool figures and the agent's own resource use; its interval is rounded
// up to whole seconds, and 0 says the agent stops.
func TestHeartbeatDescribesTheAgent(t *testing.T) {
	sink := &spoolSink{depth: 7, dropped: 2}
	a := New(Options{Sink: sink, Version: "1.2.3", RuleSetHash: func() string { return "h1" }})
	a.Emit(&event.Event{Kind: event.KindProcessExec, Process: &event.Process{PID: 1}})
	hb := a.Heartbeat(1500 * time.Millisecond)
	if hb.IntervalS != 2 || hb.Events != 1 || hb.Version != "1.2.3" || hb.RuleSetHash != "h1" || hb.SpoolDepth != 7 ||
		hb.SpoolDropped != 2 || hb.KernelVersion != sensor.KernelRelease() || hb.RSSBytes == 0 || hb.Sensors == nil {
		t.Fatalf("heartbeat %+v", hb)
	}
	if hb := a.Heartbeat(0); hb.IntervalS != 0 {
		t.Errorf("stopping heartbeat has interval %d", hb.IntervalS)
	}
	// Without a spool or rules, those stay empty.
	b := New(Options{Sink: &collectSink{}}).Heartbeat(time.Second)
	if b.SpoolDepth != 0 || b.RuleSetHash != "" || len(b.Sensors) != 0 || b.Sensors == nil {
		t.Errorf("bare heartbeat %+v", b)
	}
}

// refusingSensor is a sensor that refused DNS answers.
type refusingSensor struct {
	pidSensor
	refused map[string]uint64
	err     error
}

func (s *refusingSensor) RefusedAnswers() (map[string]uint64, error) { return s.refused, s.err }

// The heartbeat carries the DNS answers the sensors refused, by reason,
// and leaves them out when no running sensor refuses answers.
func TestHeartbeatCarriesRefusedDNSAnswers(t *testing.T) {
	net := &refusingSensor{pidSensor: pidSensor{name: "net"}, refused: map[string]uint64{"unsolicited": 4, "malformed": 1}}
	a := New(Options{Sink: &collectSink{}, Sensors: []sensor.Sensor{&pidSensor{name: "process"}, net}})
	hb := a.Heartbeat(time.Second)
	if hb.DNSRefused["unsolicited"] != 4 || hb.DNSRefused["malformed"] != 1 {
		t.Errorf("heartbeat dns_refused %v, want unsolicited 4 and malformed 1", hb.DNSRefused)
	}
	net.err = errors.New("not running")
	if hb := a.Heartbeat(time.Second); hb.DNSRefused != nil {
		t.Errorf("heartbeat of an agent whose net sensor does not run has dns_refused %v", hb.DNSRefused)
	}
}

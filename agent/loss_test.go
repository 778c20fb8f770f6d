package agent_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/file"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testkernel"
)

// gatedSink holds every Publish until the gate opens, stalling the agent so
// the kernel's ring buffer overflows.
type gatedSink struct {
	gate   chan struct{}
	events chan *event.Event
}

func (g *gatedSink) Publish(ev *event.Event) error {
	<-g.gate
	g.events <- ev
	return nil
}

// When the agent cannot keep up, the kernel counts what it could not submit
// and the agent reports it as agent.loss events: loss is never silent.
func TestRingOverflowIsReported(t *testing.T) {
	testkernel.RequireRoot(t)
	sink := &gatedSink{gate: make(chan struct{}), events: make(chan *event.Event, 1<<16)}
	startAgent(t, agent.Options{
		Identity:  agent.Identity{Site: "s", Host: "h", AgentID: "a"},
		Sensors:   []sensor.Sensor{file.New(file.Config{})},
		Sink:      sink,
		RingBytes: 4096, // room for a handful of records
		LossEvery: 50 * time.Millisecond,
	})

	dir := t.TempDir()
	const files = 200
	script := fmt.Sprintf("for i in $(seq %d); do echo data > %s/f$i; done", files, dir)
	if out, err := exec.Command("/bin/bash", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	close(sink.gate)

	var written int
	var lost uint64
	timeout := time.After(20 * time.Second)
	for lost == 0 || written+int(lost) < files {
		select {
		case ev := <-sink.events:
			switch {
			case ev.Kind == event.KindFileWrite && strings.HasPrefix(ev.File.Path, dir+"/"):
				written++
			case ev.Kind == event.KindAgentLoss:
				if ev.Loss.Sensor != "file" || ev.Loss.Reason != "ringbuf_full" {
					t.Errorf("loss = %+v", ev.Loss)
				}
				lost += ev.Loss.Count
			}
		case <-timeout:
			t.Fatalf("after 20 s: %d file.write events and %d reported lost, want %d files accounted for with some loss", written, lost, files)
		}
	}
	if written >= files {
		t.Errorf("all %d writes arrived through a 4 KiB ring: the test did not overflow it", written)
	}
	t.Logf("%d file.write events, %d records reported lost", written, lost)
}

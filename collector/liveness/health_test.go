package liveness

import (
	"testing"
	"time"
)

// Health reports each agent's last heartbeat and liveness: ok while beats
// come, silent after missed intervals, stopped after a farewell; a copy,
// which the caller cannot change the tracker through.
func TestHealth(t *testing.T) {
	tr := New(Options{})
	tr.Known("ag-0", "york", "ws0", "b0", nil, t0)
	tr.Heartbeat(heartbeat(beat{boot: "b1", interval: 10, sensors: both, drops: 4}, t0), t0)
	h := tr.Health()
	if len(h) != 2 || h[0].AgentID != "ag-0" || h[0].Heartbeat != nil || h[1].AgentID != "ag-1" || h[1].Status != "ok" ||
		h[1].Heartbeat.SpoolDropped != 4 || !h[1].LastHeartbeat.Equal(t0) || h[1].Site != "leeds" {
		t.Fatalf("health %+v", h)
	}
	h[1].Heartbeat.SpoolDropped = 99
	if tr.Health()[1].Heartbeat.SpoolDropped != 4 {
		t.Error("the caller changed the tracker's heartbeat")
	}
	tr.Check(t0.Add(time.Minute))
	if s := tr.Health()[1].Status; s != "silent" {
		t.Errorf("after a minute without beats: %s", s)
	}
	tr.Heartbeat(heartbeat(beat{boot: "b1", interval: 0}, t0.Add(2*time.Minute)), t0.Add(2*time.Minute))
	if s := tr.Health()[1].Status; s != "stopped" {
		t.Errorf("after the farewell: %s", s)
	}
}

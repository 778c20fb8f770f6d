package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/event"
)

// Each agent's last heartbeat is exported at scrape time; a silent agent is
// down with its age growing; one seeded without a heartbeat has only its
// liveness.
func TestFleetGauges(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	health := []liveness.Health{
		{AgentID: "ag-1", Site: "leeds", Host: "ws-1", Status: "ok", LastHeartbeat: now.Add(-5 * time.Second), ClockSkew: 90 * time.Second,
			Heartbeat: &event.Heartbeat{SpoolDepth: 12, SpoolDropped: 3, KernelDrops: map[string]uint64{"file": 7}, CPUPercent: 1.5,
				RSSBytes: 50 << 20, Version: "1.2.3", KernelVersion: "6.18.0", RuleSetHash: "abc"}},
		{AgentID: "ag-2", Site: "york", Host: "ws-9", Status: "silent", LastHeartbeat: now.Add(-time.Hour)},
	}
	f := newFleet(func() []liveness.Health { return health })
	f.now = func() time.Time { return now }
	want := `
# HELP vigil_agent_kernel_drops Records the agent's sensors dropped in the kernel since it started, by sensor.
# TYPE vigil_agent_kernel_drops gauge
vigil_agent_kernel_drops{agent_id="ag-1",host="ws-1",sensor="file",site="leeds"} 7
# HELP vigil_agent_last_heartbeat_age_seconds Seconds since the agent's last heartbeat.
# TYPE vigil_agent_last_heartbeat_age_seconds gauge
vigil_agent_last_heartbeat_age_seconds{agent_id="ag-1",host="ws-1",site="leeds"} 5
vigil_agent_last_heartbeat_age_seconds{agent_id="ag-2",host="ws-9",site="york"} 3600
# HELP vigil_agent_clock_skew_seconds The agent's clock less the collector's as its last heartbeat arrived (delivery delay counts as behind): rules' windows and event times are the agent's.
# TYPE vigil_agent_clock_skew_seconds gauge
vigil_agent_clock_skew_seconds{agent_id="ag-1",host="ws-1",site="leeds"} 90
# HELP vigil_agent_spool_depth Events waiting in the agent's spool.
# TYPE vigil_agent_spool_depth gauge
vigil_agent_spool_depth{agent_id="ag-1",host="ws-1",site="leeds"} 12
# HELP vigil_agent_up 1 while the agent's heartbeats arrive, 0 when it is silent or stopped.
# TYPE vigil_agent_up gauge
vigil_agent_up{agent_id="ag-1",host="ws-1",site="leeds",status="ok"} 1
vigil_agent_up{agent_id="ag-2",host="ws-9",site="york",status="silent"} 0
# HELP vigil_agent_cpu_ratio The agent's share of the host's CPU over its last heartbeat interval (1 = every core).
# TYPE vigil_agent_cpu_ratio gauge
vigil_agent_cpu_ratio{agent_id="ag-1",host="ws-1",site="leeds"} 0.015
# HELP vigil_agent_info The agent's version, kernel and host rule set, as labels.
# TYPE vigil_agent_info gauge
vigil_agent_info{agent_id="ag-1",host="ws-1",kernel="6.18.0",rule_set="abc",site="leeds",version="1.2.3"} 1
`
	if err := testutil.CollectAndCompare(f, strings.NewReader(want), "vigil_agent_up", "vigil_agent_last_heartbeat_age_seconds",
		"vigil_agent_spool_depth", "vigil_agent_kernel_drops", "vigil_agent_cpu_ratio", "vigil_agent_info",
		"vigil_agent_clock_skew_seconds"); err != nil {
		t.Error(err)
	}
}

func TestBuildInfo(t *testing.T) {
	m := New(nil)
	if err := m.SetBuildInfo("9.9.9"); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(m.Registry, "vigil_build_info"); err != nil || n != 1 {
		t.Errorf("vigil_build_info series: %d %v", n, err)
	}
}

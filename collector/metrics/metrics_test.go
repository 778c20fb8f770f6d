package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Every message result is exported from the start, at 0, so a dashboard
// can tell "none yet" from "not exported".
func TestResultsStartAtZero(t *testing.T) {
	m := New(nil)
	n, err := testutil.GatherAndCount(m.Registry, "vigil_collector_messages_total")
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 {
		t.Errorf("%d message results exported, want 6", n)
	}
	for _, res := range []string{"stored", "duplicate", "heartbeat", "malformed", "oversized", "rejected"} {
		if v := testutil.ToFloat64(m.Messages.WithLabelValues(res)); v != 0 {
			t.Errorf("%s starts at %v", res, v)
		}
	}
}

func TestRuleReloadErrorsReadsItsSource(t *testing.T) {
	refused := 0.0
	m := New(func() float64 { return refused })
	refused = 3
	want := "# HELP vigil_collector_rule_reload_errors_total Correlation rule reloads refused because the files had errors.\n" +
		"# TYPE vigil_collector_rule_reload_errors_total counter\nvigil_collector_rule_reload_errors_total 3\n"
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "vigil_collector_rule_reload_errors_total"); err != nil {
		t.Error(err)
	}
	if v := testutil.ToFloat64(New(nil).RuleReloadErrors); v != 0 {
		t.Errorf("without a source: %v, want 0", v)
	}
}

func TestCheckpointFailuresReadItsSource(t *testing.T) {
	m := New(nil)
	failed := 0.0
	if err := m.WatchCheckpoints(func() float64 { return failed }); err != nil {
		t.Fatal(err)
	}
	failed = 2
	want := "# HELP vigil_collector_checkpoint_publish_failures_total Attempts to publish a signed checkpoint of the store's hash chain that failed (retried every interval).\n" +
		"# TYPE vigil_collector_checkpoint_publish_failures_total counter\nvigil_collector_checkpoint_publish_failures_total 2\n"
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "vigil_collector_checkpoint_publish_failures_total"); err != nil {
		t.Error(err)
	}
}

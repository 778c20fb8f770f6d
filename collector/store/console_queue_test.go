package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// The queue orders by the alert's time: an alert from two hours ago stored
// last sits below newer ones; alerts of the same millisecond keep their
// number order, and paging by cursor returns each alert exactly once.
func TestQueueAlertsByEventTime(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	mk := func(id string, at time.Duration) *event.Event {
		al := newAlert(id, "dump", event.SeverityHigh)
		al.Time = t0.Add(at)
		return al
	}
	putAlerts(t, st, t0, mk("a1", time.Hour), mk("a2", 3*time.Hour), mk("tie1", 2*time.Hour), mk("tie2", 2*time.Hour))
	putAlerts(t, st, t0.Add(4*time.Hour), mk("late-old", 0))
	ids := func(list []Alert) string {
		var out []string
		for _, a := range list {
			out = append(out, a.Event.ID)
		}
		return strings.Join(out, " ")
	}
	all, err := st.QueueAlerts(ctx, AlertFilter{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(all), "a2 tie2 tie1 a1 late-old"; got != want {
		t.Fatalf("queue %q, want %q", got, want)
	}
	var paged []string
	var cur *QueueCursor
	for range 10 {
		page, err := st.QueueAlerts(ctx, AlertFilter{Limit: 2, Site: "leeds"}, cur)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, ids(page))
		last := page[len(page)-1]
		cur = &QueueCursor{Time: last.Event.Time, N: last.N}
	}
	if got, want := strings.Join(paged, " | "), "a2 tie2 | tie1 a1 | late-old"; got != want {
		t.Errorf("pages %q, want %q", got, want)
	}
	if _, err := st.QueueAlerts(ctx, AlertFilter{MinSeverity: "severe"}, nil); err == nil || !strings.Contains(err.Error(), `"severe"`) {
		t.Errorf("unknown severity: %v", err)
	}
}

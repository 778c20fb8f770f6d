package ocsf

import (
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// A db.query the agent folded from repeats carries OCSF's count and the
// period it covers; a single run carries neither.
func TestFoldedQueryCount(t *testing.T) {
	first := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ev := &event.Event{ID: "b-1", Time: first.Add(800 * time.Millisecond), Kind: event.KindDBQuery,
		DB: &event.DB{Engine: "postgresql", Command: "SELECT", Rows: 40, Executions: 40, FirstTime: first}}
	o := Evidence(ev)
	if o["count"] != uint64(40) || o["start_time"] != first.UnixMilli() || o["end_time"] != ev.Time.UnixMilli() {
		t.Errorf("folded query: count %v start_time %v end_time %v, want 40, %d, %d",
			o["count"], o["start_time"], o["end_time"], first.UnixMilli(), ev.Time.UnixMilli())
	}
	ev.DB.Executions, ev.DB.FirstTime = 0, time.Time{}
	o = Evidence(ev)
	for _, k := range []string{"count", "start_time", "end_time"} {
		if _, ok := o[k]; ok {
			t.Errorf("single run has %s = %v", k, o[k])
		}
	}
}

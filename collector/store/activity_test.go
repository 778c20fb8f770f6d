package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// A person's activity counts their events by day and kind over the last
// ActivityDays days, including what they ran through sudo, and nobody
// else's.
func TestActivity(t *testing.T) {
	st := openStore(t)
	now := time.Date(2026, 1, 20, 15, 0, 0, 0, time.UTC)
	seq := uint64(0)
	ev := func(kind event.Kind, at time.Time, p *event.Process) *event.Event {
		seq++
		return &event.Event{ID: fmt.Sprintf("b1-%d", seq), Seq: seq, Time: at, Kind: kind, Site: "leeds", Host: "ws1",
			AgentID: "ag-1", BootID: "b1", Process: p}
	}
	mona := &event.Process{User: "mona", LoginUID: 1001, LoginUser: "mona"}
	sudo := &event.Process{User: "root", LoginUID: 1001, LoginUser: "mona"}
	ali := &event.Process{User: "ali", LoginUID: 1002, LoginUser: "ali"}
	putEvents(t, st, now,
		ev(event.KindDBQuery, now.Add(-time.Hour), mona), ev(event.KindDBQuery, now.Add(-2*time.Hour), sudo),
		ev(event.KindFileWrite, now.Add(-14*time.Hour), mona), // 01:00, the same day
		ev(event.KindNetTransfer, now.Add(-24*time.Hour), sudo),
		ev(event.KindDBQuery, now.AddDate(0, 0, -13), mona),
		ev(event.KindDBQuery, now.AddDate(0, 0, -14), mona), // before the first day
		ev(event.KindDBQuery, now.Add(-time.Hour), ali))
	days, err := st.Activity(context.Background(), "mona", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != ActivityDays || !days[0].Day.Equal(time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("%d days from %v, want %d from the 20th", len(days), days[0].Day, ActivityDays)
	}
	got := map[int]map[string]int{}
	for i, d := range days {
		if len(d.Counts) > 0 {
			got[i] = d.Counts
		}
	}
	want := map[int]map[string]int{0: {"db.query": 2, "file.write": 1}, 1: {"net.transfer": 1}, 13: {"db.query": 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("activity %v, want %v", got, want)
	}
}

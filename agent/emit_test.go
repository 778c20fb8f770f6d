package agent

import (
	"math/rand"
	"os"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/dbconn"
	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/event"
)

type collectSink struct{ evs []*event.Event }

func (c *collectSink) Publish(ev *event.Event) error { c.evs = append(c.evs, ev); return nil }

// alertOnWrites raises one alert, with no time of its own, per file.write.
type alertOnWrites struct{}

func (alertOnWrites) Process(ev *event.Event) []event.Event {
	if ev.Kind != event.KindFileWrite {
		return nil
	}
	return []event.Event{{Kind: event.KindAlert, Alert: &event.Alert{Rule: "w"}}}
}

// Every event is numbered from 1 without gaps under the boot id, carries
// the agent's identity, and a rule's alert follows the event it fired on,
// at that event's time.
func TestEmitNumbersAndStamps(t *testing.T) {
	sink := &collectSink{}
	labels := map[string]string{"desk": "returns"}
	a := New(Options{Identity: Identity{Site: "leeds", Host: "ws-1", AgentID: "ag-1", Labels: labels}, Sink: sink, Rules: alertOnWrites{}})
	at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	a.Emit(&event.Event{Time: at, Kind: event.KindProcessExec, Process: &event.Process{PID: 1}})
	a.Emit(&event.Event{Time: at, Kind: event.KindFileWrite, Process: &event.Process{PID: 1}, File: &event.File{Path: "/x"}})
	a.Emit(&event.Event{Time: at, Kind: event.KindProcessExit, Process: &event.Process{PID: 1}})
	if len(sink.evs) != 4 {
		t.Fatalf("%d events, want 3 and an alert", len(sink.evs))
	}
	for i, ev := range sink.evs {
		if ev.Seq != uint64(i+1) || ev.BootID != a.BootID() || ev.ID != event.MakeID(a.BootID(), ev.Seq) ||
			ev.Site != "leeds" || ev.Host != "ws-1" || ev.AgentID != "ag-1" || ev.Labels["desk"] != "returns" {
			t.Errorf("event %d: seq %d boot %s id %s site %s host %s agent %s labels %v", i, ev.Seq, ev.BootID, ev.ID, ev.Site, ev.Host, ev.AgentID, ev.Labels)
		}
	}
	if al := sink.evs[2]; al.Kind != event.KindAlert || !al.Time.Equal(at) {
		t.Errorf("third event %s at %v, want the write's alert at its time", al.Kind, al.Time)
	}
	if st := a.Stats(); st.Events != 4 {
		t.Errorf("Stats().Events = %d, want 4", st.Events)
	}
}

// Statement runs the database stage holds for a process are published
// before that process's next other event, so a rule following a read to
// the write of an export sees the read first; and every run is published
// by the time the stage stops.
func TestHeldRunsPrecedeTheProcessesNextEvent(t *testing.T) {
	r, err := redact.New(redact.Config{Key: []byte("test-key-0123456789")})
	if err != nil {
		t.Fatal(err)
	}
	sink := &collectSink{}
	a := New(Options{Sink: sink, DB: dbconn.Options{Redactor: r, FoldWindow: time.Hour}})
	xs := dbwiretest.PgbenchSimple(rand.New(rand.NewSource(1)), 20)
	var caps []dbwiretest.Capture
	for _, x := range xs {
		caps = append(caps, x.Request, x.Response)
	}
	for _, d := range dbRecords(append(pgBenchPrologue(), caps...), false, 5432) {
		a.handle(d)
	}
	before := len(sink.evs)
	if before == 0 || before >= len(xs)/2 {
		t.Fatalf("%d events for %d statements of a few shapes, want the first run of each alone", before, len(xs))
	}
	write := &event.Event{Time: time.Now(), Kind: event.KindFileWrite, Process: &event.Process{PID: uint32(os.Getpid())},
		File: &event.File{Path: "/tmp/export.csv"}}
	a.Emit(write)
	if last := sink.evs[len(sink.evs)-1]; last != write || len(sink.evs) == before+1 {
		t.Fatalf("after the write: %d events, last %s; want the held runs, then the write", len(sink.evs), last.Kind)
	}
	for _, ev := range sink.evs[before : len(sink.evs)-1] {
		if ev.Kind != event.KindDBQuery || ev.DB.Executions == 0 {
			t.Errorf("between the first runs and the write: %s with %d executions, want folded runs", ev.Kind, ev.DB.Executions)
		}
	}
	a.emitAll(a.db.Stop())
	var runs uint64
	for _, ev := range sink.evs {
		if ev.Kind == event.KindDBQuery {
			runs += ev.DB.Runs()
		}
	}
	if runs != uint64(len(xs)) {
		t.Errorf("events stand for %d runs, want %d", runs, len(xs))
	}
}

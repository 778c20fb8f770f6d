package dbconn

import (
	"slices"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// foldT0 is now: the agent's fold timer ends windows by the wall clock, so
// tests that run a whole Agent need event times near it.
var foldT0 = time.Now().UTC().Truncate(time.Second)

// run is one statement run by login user person (pid 100) at foldT0+at.
func run(person, statement string, at time.Duration, rows uint64, ids ...string) *event.Event {
	ev := &event.Event{Time: foldT0.Add(at), Kind: event.KindDBQuery,
		Process: &event.Process{PID: 100, LoginUID: 1000, LoginUser: person, User: person},
		DB:      &event.DB{Engine: "postgresql", Side: "client", Statement: statement, Command: "SELECT", Rows: rows, Bytes: 10 * rows, DurationMS: 0.5}}
	if len(ids) > 0 {
		ev.DB.Identifiers = map[string][]string{"customer_id": ids}
	}
	return ev
}

// runs counts the statement runs events stand for, and their rows.
func runs(evs []*event.Event) (n, rows uint64) {
	for _, ev := range evs {
		if ev.DB != nil {
			n += ev.DB.Runs()
			rows += ev.DB.Rows
		}
	}
	return n, rows
}

// The first run goes at once; the runs after it within the window go as one
// event with their count, totals, first and last time, when the window ends.
func TestFoldRepeats(t *testing.T) {
	fs := newFolds(time.Second)
	var out events
	const q = "SELECT * FROM customers WHERE id = ?"
	fs.add(1, run("alice", q, 0, 1, "h0"), &out)
	if len(out) != 1 || out[0].DB.Executions != 0 {
		t.Fatalf("first run: emitted %d events, want it alone at once", len(out))
	}
	for i := 1; i < 50; i++ {
		fs.expire(foldT0.Add(time.Duration(i)*10*time.Millisecond), &out)
		fs.add(1, run("alice", q, time.Duration(i)*10*time.Millisecond, 2, "h0"), &out)
	}
	if len(out) != 1 {
		t.Fatalf("runs within the window were emitted before it ended: %d events", len(out))
	}
	if at, ok := fs.next(); !ok || !at.Equal(foldT0.Add(time.Second)) {
		t.Fatalf("next window end = %v %v, want %v", at, ok, foldT0.Add(time.Second))
	}
	fs.expire(foldT0.Add(time.Second), &out)
	if len(out) != 2 {
		t.Fatalf("window end: %d events, want 2", len(out))
	}
	agg := out[1].DB
	if agg.Executions != 49 || agg.Rows != 98 || agg.Bytes != 980 || agg.DurationMS != 24.5 {
		t.Errorf("folded = executions %d rows %d bytes %d duration %v, want 49 98 980 24.5", agg.Executions, agg.Rows, agg.Bytes, agg.DurationMS)
	}
	if !agg.FirstTime.Equal(foldT0.Add(10*time.Millisecond)) || !out[1].Time.Equal(foldT0.Add(490*time.Millisecond)) {
		t.Errorf("folded first_time %v time %v, want the second run's and the last run's", agg.FirstTime, out[1].Time)
	}
	if ids := agg.Identifiers["customer_id"]; !slices.Equal(ids, []string{"h0"}) {
		t.Errorf("folded identifiers = %v, want the runs' own [h0]", ids)
	}
	if _, ok := fs.next(); ok {
		t.Error("a window is still open after every one ended")
	}
	// The next run opens a new window and is reported at once.
	fs.add(1, run("alice", q, 1500*time.Millisecond, 1), &out)
	if len(out) != 3 || out[2].DB.Executions != 0 {
		t.Errorf("a run after the window: %d events, want it at once on its own", len(out))
	}
}

// A window with one run after the first reports it as a plain event.
func TestFoldSingleRepeatIsPlain(t *testing.T) {
	fs := newFolds(time.Second)
	var out events
	fs.add(1, run("alice", "SELECT 1", 0, 1), &out)
	fs.add(1, run("alice", "SELECT 1", 100*time.Millisecond, 1), &out)
	fs.expire(foldT0.Add(2*time.Second), &out)
	if len(out) != 2 || out[1].DB.Executions != 0 || !out[1].DB.FirstTime.IsZero() {
		t.Fatalf("got %d events, second %+v; want two plain events", len(out), out[len(out)-1].DB)
	}
}

// Runs fold only with runs of the same statement, outcome, identifiers,
// connection and process.
func TestFoldKeepsApart(t *testing.T) {
	const q = "SELECT * FROM t WHERE a = ?"
	variants := []func(*event.Event) (uint64, *event.Event){
		func(ev *event.Event) (uint64, *event.Event) { return 1, ev },
		func(ev *event.Event) (uint64, *event.Event) { return 2, ev }, // another connection
		func(ev *event.Event) (uint64, *event.Event) {
			ev.DB.Statement = "SELECT * FROM t WHERE b = ?"
			return 1, ev
		},
		func(ev *event.Event) (uint64, *event.Event) {
			ev.DB.ErrorCode = "42501"
			ev.DB.Error = "permission denied"
			return 1, ev
		},
		func(ev *event.Event) (uint64, *event.Event) { ev.DB.TLS = true; return 1, ev },
		func(ev *event.Event) (uint64, *event.Event) { ev.Process.PID = 101; return 1, ev },
		func(ev *event.Event) (uint64, *event.Event) { ev.DB.User = "postgres"; return 1, ev },
		// Other customers: a rule grouped by customer must see each run.
		func(ev *event.Event) (uint64, *event.Event) {
			ev.DB.Identifiers = map[string][]string{"customer_id": {"h1"}}
			return 1, ev
		},
		func(ev *event.Event) (uint64, *event.Event) {
			ev.DB.Identifiers = map[string][]string{"customer_id": {"h1", "h2"}}
			return 1, ev
		},
		func(ev *event.Event) (uint64, *event.Event) {
			ev.DB.Identifiers = map[string][]string{"customers.email": {"h1"}}
			return 1, ev
		},
	}
	fs := newFolds(time.Second)
	var out events
	for i, v := range variants {
		sock, ev := v(run("alice", q, time.Duration(i)*time.Millisecond, 1))
		fs.add(sock, ev, &out)
	}
	if len(out) != len(variants) {
		t.Fatalf("%d distinct statements gave %d events at once; every one should open its own window", len(variants), len(out))
	}
	for i, v := range variants {
		for j := 0; j < 3; j++ {
			sock, ev := v(run("alice", q, 10*time.Millisecond+time.Duration(i*3+j)*time.Millisecond, 1))
			fs.add(sock, ev, &out)
		}
	}
	fs.expire(foldT0.Add(time.Minute), &out)
	if len(out) != 2*len(variants) {
		t.Fatalf("got %d events, want one first run and one fold per statement (%d)", len(out), 2*len(variants))
	}
	for _, ev := range out[len(variants):] {
		if ev.DB.Executions != 3 {
			t.Errorf("fold of %+v has %d executions, want 3", ev.DB, ev.DB.Executions)
		}
	}
}

// A closed connection's runs are reported when it closes; other
// connections' stay folded.
func TestFoldFlushConn(t *testing.T) {
	fs := newFolds(time.Hour)
	var out events
	for i := range 3 {
		fs.add(1, run("alice", "SELECT 1", time.Duration(i), 1), &out)
		fs.add(2, run("alice", "SELECT 1", time.Duration(i), 1), &out)
	}
	fs.flushConn(1, &out)
	if len(out) != 3 || out[2].DB.Executions != 2 {
		t.Fatalf("after closing connection 1: %d events, want its first run, its fold and connection 2's first run", len(out))
	}
	fs.add(1, run("alice", "SELECT 1", time.Second, 1), &out)
	if len(out) != 4 {
		t.Errorf("a run on a reused socket after close did not open a new window")
	}
}

// A run folded straight from the tracker's record (into) counts like one
// given as an event, and the window's event carries the latest run's
// process, copied only when it changed.
func TestFoldIntoHeldWindow(t *testing.T) {
	fs := newFolds(time.Second)
	var out events
	const q = "SELECT * FROM customers WHERE id = ?"
	first := run("alice", q, 0, 1)
	if fs.into(1, first.DB, first.Time, first.Process) {
		t.Fatal("into folded a run with no window open")
	}
	fs.add(1, first, &out)
	second := run("alice", q, 10*time.Millisecond, 1)
	if fs.into(1, second.DB, second.Time, second.Process) {
		t.Fatal("into folded the run that starts holding the window (add keeps its event)")
	}
	fs.add(1, second, &out)
	held := fs.open[foldKeyOf(1, second)].ev
	same := run("alice", q, 20*time.Millisecond, 3)
	if !fs.into(1, same.DB, same.Time, same.Process) || held.Process != second.Process {
		t.Fatalf("a run by the same process: folded and the held process kept, got %p want %p", held.Process, second.Process)
	}
	changed := run("alice", q, 30*time.Millisecond, 4)
	changed.Process.Session = 9 // same pid and statement, the process moved session
	if !fs.into(1, changed.DB, changed.Time, changed.Process) {
		t.Fatal("a run of the held statement not folded")
	}
	changed.Process.Session = 10 // the caller's value is not kept
	if held.Process.Session != 9 || !held.Time.Equal(changed.Time) {
		t.Fatalf("held event has session %d at %v, want 9 at %v", held.Process.Session, held.Time, changed.Time)
	}
	fs.expire(foldT0.Add(2*time.Second), &out)
	if n, rows := runs(out); n != 4 || rows != 1+1+3+4 {
		t.Fatalf("%d runs with %d rows emitted, want 4 with 9", n, rows)
	}
}

// One FETCH text reads whichever cursor of that name was declared last
// (psql's FETCH_COUNT names every cursor _psql_cursor): runs that read
// other tables or returned other columns never fold into each other.
func TestFoldCursorReadsKeepApart(t *testing.T) {
	const q = "FETCH FORWARD 100 FROM _psql_cursor"
	fetch := func(at time.Duration, table string, cols ...string) *event.Event {
		ev := run("alice", q, at, 100)
		ev.DB.Command, ev.DB.Tables, ev.DB.ResultColumns = "FETCH", []string{table}, cols
		return ev
	}
	fs := newFolds(time.Second)
	var out events
	for i := range 3 {
		fs.add(1, fetch(time.Duration(i)*time.Millisecond, "products", "id", "name"), &out)
	}
	for i := range 4 {
		fs.add(1, fetch(10*time.Millisecond+time.Duration(i)*time.Millisecond, "customers", "id", "name"), &out)
	}
	for i := range 2 {
		fs.add(1, fetch(20*time.Millisecond+time.Duration(i)*time.Millisecond, "customers", "id", "email"), &out)
	}
	fs.expire(foldT0.Add(time.Minute), &out)
	rows := map[string]uint64{}
	for _, ev := range out {
		rows[ev.DB.Tables[0]+" "+ev.DB.ResultColumns[1]] += ev.DB.Rows
	}
	want := map[string]uint64{"products name": 300, "customers name": 400, "customers email": 200}
	if len(rows) != len(want) || rows["products name"] != 300 || rows["customers name"] != 400 || rows["customers email"] != 200 {
		t.Errorf("rows by what was read %v, want %v", rows, want)
	}
}

package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

func mustLoad(t testing.TB, src string) *Set {
	t.Helper()
	set, diags := Load(Source{Name: "test.hcl", Data: []byte(src)})
	if diags.HasErrors() {
		t.Fatalf("load: %v", diags)
	}
	return set
}

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func dbq(id, person string, at time.Duration, rows uint64) *event.Event {
	return &event.Event{
		ID: id, Time: t0.Add(at), Kind: event.KindDBQuery, Site: "s1", Host: "h1",
		Process: &event.Process{LoginUser: person, LoginUID: 1000, User: person},
		DB:      &event.DB{Tables: []string{"customers"}, Rows: rows, User: "app"},
	}
}

const countRule = `
threshold "reads" {
  severity = "high"
  when     = kind == "db.query"
  by       = [person]
  sum      = db.rows
  window   = "1h"
  limit    = 100
  summary  = "${person} read ${value} rows"
}
`

func TestThresholdAlertFields(t *testing.T) {
	e := NewEngine(mustLoad(t, countRule), Options{NewAlert: func(a *event.Event) { a.ID = "A1" }})
	if got := e.Process(dbq("e1", "alice", 0, 60)); got != nil {
		t.Fatalf("alert below the limit: %v", got)
	}
	got := e.Process(dbq("e2", "alice", time.Minute, 60))
	if len(got) != 1 {
		t.Fatalf("want 1 alert, got %d", len(got))
	}
	a := got[0]
	if a.ID != "A1" || a.Kind != event.KindAlert || a.Host != "h1" || a.Site != "s1" || !a.Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("alert envelope: %+v", a)
	}
	al := a.Alert
	if al.Rule != "reads" || al.Severity != "high" || al.Value != 120 || al.Summary != "alice read 120 rows" ||
		al.Scope != ScopeHost || al.Group["person"] != "alice" || strings.Join(al.Evidence, ",") != "e1,e2" {
		t.Errorf("alert payload: %+v", al)
	}
	// The window restarts after an alert.
	if got := e.Process(dbq("e3", "alice", 2*time.Minute, 60)); got != nil {
		t.Fatalf("alert right after reset: %v", got)
	}
	st := e.Stats()
	if st.Events != 3 || st.Alerts != 1 || st.Rules["reads"].Matched != 3 || st.Rules["reads"].Groups != 1 {
		t.Errorf("stats: %+v", st)
	}
}

func TestThresholdWindowSlides(t *testing.T) {
	e := NewEngine(mustLoad(t, countRule), Options{})
	e.Process(dbq("e1", "alice", 0, 60))
	// 61 minutes later the first read has left the window.
	if got := e.Process(dbq("e2", "alice", 61*time.Minute, 60)); got != nil {
		t.Fatalf("alert across windows: %v", got[0].Alert)
	}
	if got := e.Process(dbq("e3", "alice", 62*time.Minute, 60)); len(got) != 1 || got[0].Alert.Value != 120 {
		t.Fatalf("want an alert of 120, got %v", got)
	}
	// An event older than the window is late and not counted.
	e.Process(dbq("e4", "alice", 0, 1000))
	if s := e.Stats().Rules["reads"]; s.Late != 1 {
		t.Errorf("late events: %+v", s)
	}
}

func TestSwapKeepsStateOfUnchangedRules(t *testing.T) {
	other := `
rule "dump" {
  severity = "high"
  when     = kind == "process.exec" && process.comm == "pg_dump"
}
`
	e := NewEngine(mustLoad(t, countRule+other), Options{})
	e.Process(dbq("e1", "alice", 0, 60))
	// Same threshold, another rule changed: the 60 rows are kept.
	e.Swap(mustLoad(t, countRule+strings.Replace(other, "pg_dump", "mysqldump", 1)))
	if got := e.Process(dbq("e2", "alice", time.Minute, 60)); len(got) != 1 {
		t.Fatal("state of an unchanged rule was lost on Swap")
	}
	e.Process(dbq("e3", "alice", 2*time.Minute, 60))
	// The threshold itself changed: its state starts empty.
	e.Swap(mustLoad(t, strings.Replace(countRule, "limit    = 100", "limit    = 110", 1)))
	if got := e.Process(dbq("e4", "alice", 3*time.Minute, 60)); got != nil {
		t.Fatal("state of a changed rule survived Swap")
	}
	if names := e.Set().Names(); len(names) != 1 {
		t.Fatalf("set not swapped: %v", names)
	}
	e.Swap(nil)
	if got := e.Process(dbq("e5", "alice", 4*time.Minute, 1e6)); got != nil {
		t.Fatal("rules ran after Swap(nil)")
	}
}

func TestSwapResetsStateWhenAVariableChanges(t *testing.T) {
	src := func(limit int) string {
		return fmt.Sprintf(`
variable "limit" { default = %d }
threshold "reads" {
  severity = "high"
  when     = kind == "db.query"
  by       = [person]
  sum      = db.rows
  window   = "1h"
  limit    = var.limit
}
`, limit)
	}
	a, b := mustLoad(t, src(100)), mustLoad(t, src(100))
	if a.byName["reads"].fingerprint != b.byName["reads"].fingerprint {
		t.Fatal("fingerprint not stable")
	}
	c := mustLoad(t, src(200))
	if a.byName["reads"].fingerprint == c.byName["reads"].fingerprint {
		t.Fatal("fingerprint ignores the variable")
	}
}

func TestMaxGroupsEvictsLeastRecent(t *testing.T) {
	e := NewEngine(mustLoad(t, countRule), Options{MaxGroups: 2})
	e.Process(dbq("e1", "alice", 0, 60))
	e.Process(dbq("e2", "bob", time.Second, 60))
	e.Process(dbq("e3", "alice", 2*time.Second, 1)) // alice is now the most recent
	e.Process(dbq("e4", "carol", 3*time.Second, 60))
	s := e.Stats().Rules["reads"]
	if s.Groups != 2 || s.GroupsEvicted != 1 {
		t.Fatalf("stats: %+v", s)
	}
	// bob was evicted, alice kept her 61 rows.
	if got := e.Process(dbq("e5", "alice", 4*time.Second, 40)); len(got) != 1 {
		t.Fatal("alice's group was evicted instead of bob's")
	}
	if got := e.Process(dbq("e6", "bob", 5*time.Second, 60)); got != nil {
		t.Fatal("bob's group survived eviction")
	}
}

func TestMaxValuesBoundsDistinct(t *testing.T) {
	set := mustLoad(t, `
threshold "customers" {
  severity = "high"
  when     = kind == "db.query"
  by       = [person]
  distinct = db.identifiers["customer_id"]
  window   = "1h"
  limit    = 1000
}
`)
	e := NewEngine(set, Options{MaxValues: 10, MaxFanout: 4})
	for i := 0; i < 5; i++ {
		ev := dbq(fmt.Sprint("e", i), "alice", time.Duration(i)*time.Second, 1)
		ev.DB.Identifiers = map[string][]string{"customer_id": {fmt.Sprint("a", i), fmt.Sprint("b", i), fmt.Sprint("c", i)}}
		e.Process(ev)
	}
	ev := dbq("e9", "alice", 9*time.Second, 1)
	ev.DB.Identifiers = map[string][]string{"customer_id": {"x1", "x2", "x3", "x4", "x5"}}
	e.Process(ev)
	s := e.Stats().Rules["customers"]
	if s.ValuesDropped != 9 || s.FanoutTruncated != 1 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestEmptyKeysAreSkipped(t *testing.T) {
	e := NewEngine(mustLoad(t, countRule), Options{})
	ev := dbq("e1", "", 0, 1000)
	ev.Process = nil
	if got := e.Process(ev); got != nil {
		t.Fatal("grouped on an empty person")
	}
	if s := e.Stats().Rules["reads"]; s.EmptyKeys != 1 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestScopeSelectsRules(t *testing.T) {
	set := mustLoad(t, `
rule "h" {
  severity = "low"
  when     = kind == "process.exec"
}
rule "g" {
  scope    = "global"
  severity = "low"
  when     = kind == "alert" && alert.rule == "h"
  summary  = "correlated ${alert.rule} from ${host}"
}
`)
	host := NewEngine(set, Options{Scope: ScopeHost})
	global := NewEngine(set, Options{Scope: ScopeGlobal})
	ev := &event.Event{ID: "e1", Time: t0, Kind: event.KindProcessExec, Host: "h1"}
	ha := host.Process(ev)
	if len(ha) != 1 || ha[0].Alert.Rule != "h" {
		t.Fatalf("host alerts: %v", ha)
	}
	if got := global.Process(ev); got != nil {
		t.Fatal("global engine ran a host rule")
	}
	ga := global.Process(&ha[0])
	if len(ga) != 1 || ga[0].Alert.Rule != "g" || ga[0].Alert.Scope != ScopeGlobal || ga[0].Alert.Summary != "correlated h from h1" {
		t.Fatalf("global alerts: %+v", ga)
	}
}

func TestExceptionSuppresses(t *testing.T) {
	set := mustLoad(t, `
rule "dump" {
  severity = "high"
  when     = kind == "process.exec" && process.comm == "pg_dump"
}
exception "backups" {
  rules  = ["dump"]
  when   = person == "backup"
  reason = "nightly backups"
}
`)
	e := NewEngine(set, Options{})
	ev := &event.Event{ID: "e1", Time: t0, Kind: event.KindProcessExec, Process: &event.Process{Comm: "pg_dump", User: "backup", LoginUID: event.NoLoginUID}}
	if got := e.Process(ev); got != nil {
		t.Fatal("exception did not suppress")
	}
	ev.Process.User = "alice"
	if got := e.Process(ev); len(got) != 1 {
		t.Fatal("exception suppressed another person")
	}
	if s := e.Stats().Rules["dump"]; s.Suppressed != 1 || s.Matched != 2 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestSequenceJoinsOnPerStepKeys(t *testing.T) {
	// A file written by one process and then read back by a transfer that
	// names the same path in its command line.
	set := mustLoad(t, `
sequence "write_then_send" {
  severity = "high"
  window   = "10m"
  by       = [host]
  step "write" {
    when = kind == "file.write"
    by   = [file.path]
  }
  step "send" {
    when = kind == "process.exec" && process.comm == "curl"
    by   = [process.cmdline]
  }
  summary = "${steps.write.file.path} sent by ${person}"
}
`)
	e := NewEngine(set, Options{})
	w := &event.Event{ID: "w", Time: t0, Kind: event.KindFileWrite, File: &event.File{Path: "/tmp/a.csv"}}
	s1 := &event.Event{ID: "s1", Time: t0.Add(time.Minute), Kind: event.KindProcessExec, Process: &event.Process{Comm: "curl", Cmdline: "/tmp/b.csv", User: "eve", LoginUID: event.NoLoginUID}}
	s2 := &event.Event{ID: "s2", Time: t0.Add(2 * time.Minute), Kind: event.KindProcessExec, Process: &event.Process{Comm: "curl", Cmdline: "/tmp/a.csv", User: "eve", LoginUID: event.NoLoginUID}}
	e.Process(w)
	if got := e.Process(s1); got != nil {
		t.Fatal("joined on different keys")
	}
	got := e.Process(s2)
	if len(got) != 1 || got[0].Alert.Summary != "/tmp/a.csv sent by eve" || strings.Join(got[0].Alert.Evidence, ",") != "w,s2" {
		t.Fatalf("got %+v", got)
	}
	if got[0].Alert.Group["file.path"] != "/tmp/a.csv" {
		t.Errorf("group %v", got[0].Alert.Group)
	}
}

func TestEventsWithoutTimeUseNow(t *testing.T) {
	now := t0
	e := NewEngine(mustLoad(t, countRule), Options{Now: func() time.Time { return now }})
	ev := dbq("e1", "alice", 0, 60)
	ev.Time = time.Time{}
	e.Process(ev)
	now = now.Add(2 * time.Hour)
	ev2 := dbq("e2", "alice", 0, 60)
	ev2.Time = time.Time{}
	if got := e.Process(ev2); got != nil {
		t.Fatal("Now was not used for the window")
	}
}

func TestKindIndex(t *testing.T) {
	set := mustLoad(t, `
rule "a" {
  severity = "low"
  when     = kind == "db.query" && db.rows > 1
}
rule "b" {
  severity = "low"
  when     = contains(["file.write", "net.transfer"], kind)
}
rule "c" {
  severity = "low"
  when     = startswith(kind, "process.")
}
`)
	e := NewEngine(set, Options{})
	names := func(k event.Kind) string {
		var s []string
		for _, en := range e.byKind[k] {
			s = append(s, en.a.r.name)
		}
		return strings.Join(s, ",")
	}
	for k, want := range map[event.Kind]string{
		event.KindDBQuery: "a", event.KindFileWrite: "b", event.KindNetTransfer: "b",
		event.KindProcessExec: "c", event.KindProcessExit: "c", event.KindAlert: "",
	} {
		if got := names(k); got != want {
			t.Errorf("%s: rules %q, want %q", k, got, want)
		}
	}
}

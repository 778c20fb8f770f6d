package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// The default pack over statements read at a database server, as the
// collector hands them on after joining them to their connection's client
// end (event.Event.AsClient): attributed ones count as the client's
// person's, duplicates of what the client reported count once, and
// unjoined ones are nobody's.

// packWith loads the shipped pack with values overriding its variables.
func packWith(t *testing.T, values string) *Set {
	t.Helper()
	paths, err := filepath.Glob("packs/*.hcl")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no packs: %v", err)
	}
	var srcs []Source
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, Source{Name: p, Data: data})
	}
	srcs = append(srcs, Source{Name: "zz-values.hcl", Data: []byte(values)})
	set, diags := Load(srcs...)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return set
}

var (
	packT0  = time.Date(2026, 1, 6, 10, 0, 0, 0, time.UTC)
	backend = event.Process{PID: 900, Comm: "postgres", User: "postgres", LoginUID: event.NoLoginUID}
	nadia   = event.Process{PID: 4242, Comm: "java", User: "nadia", LoginUID: 1201, LoginUser: "nadia"}
)

// serverRead is a read of customers seen at db-01's server, attributed
// with status (none when empty) to nadia's java on ws-7 at leeds.
func serverRead(n int, at time.Time, rows uint64, status string) *event.Event {
	ev := &event.Event{ID: fmt.Sprintf("db-%d", n), Time: at, Kind: event.KindDBQuery, Site: "dc", Host: "db-01",
		AgentID: "ag-db", Process: &backend,
		DB: &event.DB{Engine: "postgresql", Side: "server", Client: "10.0.0.21:50432", Server: "10.0.0.5:5432",
			User: "support_ro", Command: "SELECT", Tables: []string{"customers"}, Rows: rows}}
	if status != "" {
		ev.Attribution = &event.Attribution{Status: status, Site: "leeds", Host: "ws-7", AgentID: "ag-ws", By: event.AttributedByCollector}
		ev.Attribution.SetProcess(&nadia)
	}
	return ev
}

// run feeds evs, as the collector hands them on, to a host and a global
// engine and returns the alerts by rule.
func run(set *Set, evs ...*event.Event) map[string][]event.Event {
	host := NewEngine(set, Options{Scope: ScopeHost})
	global := NewEngine(set, Options{Scope: ScopeGlobal})
	out := map[string][]event.Event{}
	for _, ev := range evs {
		view := ev.AsClient()
		for _, e := range []*Engine{host, global} {
			for _, al := range e.Process(view) {
				out[al.Alert.Rule] = append(out[al.Alert.Rule], al)
			}
		}
	}
	return out
}

func TestPackCountsAttributedServerReads(t *testing.T) {
	set := packWith(t, "values {\n  max_customer_rows = 100\n}\n")
	var evs []*event.Event
	for i := range 11 {
		evs = append(evs, serverRead(i, packT0.Add(time.Duration(i)*time.Minute), 10, event.AttributionAttributed))
	}
	al := run(set, evs...)["excessive_customer_rows"]
	if len(al) != 1 || al[0].Alert.Value != 110 || al[0].Alert.Group["person"] != "nadia" || al[0].Alert.Group["host"] != "ws-7" || al[0].Site != "leeds" {
		t.Fatalf("alerts %+v, want one about nadia on ws-7 at leeds, value 110", al)
	}

	// The same reads unattributed, unjoined or duplicated are nobody's.
	for _, status := range []string{"", event.AttributionUnjoined, event.AttributionDuplicate} {
		evs = evs[:0]
		for i := range 11 {
			evs = append(evs, serverRead(i, packT0.Add(time.Duration(i)*time.Minute), 10, status))
		}
		if al := run(set, evs...)["excessive_customer_rows"]; len(al) != 0 {
			t.Errorf("status %q: %d excessive_customer_rows alerts, want none: %s", status, len(al), al[0].Alert.Summary)
		}
	}
}

func TestPackServiceAccountThroughAttributedClient(t *testing.T) {
	set := packWith(t, "")
	ev := serverRead(1, packT0, 1, event.AttributionAttributed)
	ev.DB.User = "svc_billing"
	al := run(set, ev)["service_account_from_workstation"]
	if len(al) != 1 || al[0].Alert.Group["person"] != "nadia" {
		t.Fatalf("alerts %+v, want one about nadia", al)
	}
	ev = serverRead(2, packT0, 1, event.AttributionUnjoined)
	ev.DB.User = "svc_billing"
	if al := run(set, ev)["service_account_from_workstation"]; len(al) != 0 {
		t.Fatalf("an unjoined server-side statement raised %s", al[0].Alert.Summary)
	}
}

// A readable client's statements reach the collector twice, from the
// workstation and from the database server: a site's volume counts them
// once.
func TestPackSiteSpikeCountsRemoteReadsOnce(t *testing.T) {
	set := packWith(t, "values {\n  site_spike_min_rows = 1000\n}\n")
	var evs []*event.Event
	read := func(n int, at time.Time, rows uint64) *event.Event {
		return &event.Event{ID: fmt.Sprintf("ws-%d", n), Time: at, Kind: event.KindDBQuery, Site: "leeds", Host: "ws-7",
			AgentID: "ag-ws", Process: &nadia, DB: &event.DB{Engine: "postgresql", Side: "client", Command: "SELECT",
				Tables: []string{"customers"}, Rows: rows}}
	}
	for h := range 6 {
		evs = append(evs, read(h, packT0.Add(time.Duration(h)*time.Hour), 200))
	}
	// 600 rows in the seventh hour: three times the baseline, not five.
	spike := packT0.Add(6*time.Hour + 30*time.Minute)
	dup := serverRead(100, spike, 600, event.AttributionDuplicate)
	dup.Site = "leeds"
	evs = append(evs, read(100, spike, 600), dup)
	if al := run(set, evs...)["site_read_volume_spike"]; len(al) != 0 {
		t.Fatalf("site_read_volume_spike counted the server's copy: %s", al[0].Alert.Summary)
	}
}

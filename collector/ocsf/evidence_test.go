package ocsf

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/ocsf/ocsfschema"
	"github.com/vigilhq/vigil/event"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func person() *event.Process {
	return &event.Process{PID: 4242, PPID: 4100, Exe: "/usr/bin/psql", Comm: "psql", Cmdline: "psql -h db", UID: 0, User: "root",
		LoginUID: 1013, LoginUser: "ana", Session: 7, TTY: "pts/1", StartTime: t0.Add(-time.Minute)}
}

func service() *event.Process {
	return &event.Process{PID: 900, PPID: 1, Comm: "postgres", UID: 106, User: "postgres", LoginUID: event.NoLoginUID, Session: event.NoLoginUID}
}

// every event kind vigil renders, in the shapes the agent sends them.
func kinds() []*event.Event {
	base := func(id string, k event.Kind) *event.Event {
		return &event.Event{ID: id, Time: t0, Kind: k, Site: "leeds", Host: "ws-1", AgentID: "ag-1", BootID: "b", Seq: 1, Process: person()}
	}
	var out []*event.Event
	for i, cmd := range []string{"SELECT", "WITH", "COPY", "FETCH", "INSERT", "UPDATE", "DELETE", "CREATE", ""} {
		ev := base(fmt.Sprint("db-", i), event.KindDBQuery)
		ev.DB = &event.DB{Engine: "postgresql", Side: "client", Client: "10.0.0.2:40000", Server: "10.0.0.3:5432", User: "support",
			Database: "shop", Statement: cmd + " ...", Fingerprint: "fp", Command: cmd, Rows: 40, Bytes: 4000, Tables: []string{"customers"},
			Identifiers: map[string][]string{"customers.id": {"h1"}}}
		out = append(out, ev)
	}
	folded := base("db-folded", event.KindDBQuery)
	folded.DB = &event.DB{Engine: "mysql", Side: "server", Client: "[::ffff:10.0.0.2]:40000", Server: "[::ffff:10.0.0.3]:3306",
		Command: "SELECT", Statement: "SELECT ?", Executions: 40, FirstTime: t0.Add(-time.Second), Rows: 40}
	folded.Process = service()
	session := base("db-session", event.KindDBSession)
	session.DB = &event.DB{Engine: "postgresql", Side: "client", Client: "10.0.0.2:40001", Server: "10.0.0.3:5432", TLS: true, Encrypted: true}
	unix := base("db-unix", event.KindDBQuery)
	unix.DB = &event.DB{Engine: "postgresql", Side: "client", Client: "", Server: "/var/run/postgresql/.s.PGSQL.5432", Command: "SELECT", Statement: "SELECT 1", Error: "boom", ErrorCode: "42501"}
	out = append(out, folded, session, unix)

	created := base("f-1", event.KindFileWrite)
	created.File = &event.File{Path: "/home/ana/export.csv", Bytes: 4096, Created: true, Removable: true, Mount: "/media/ana/STICK"}
	updated := base("f-2", event.KindFileWrite)
	updated.File = &event.File{Path: "/tmp/x", Bytes: 1, Reason: "interim"}
	renamed := base("f-3", event.KindFileRename)
	renamed.File = &event.File{Path: "/home/ana/Dropbox/export.csv", OldPath: "/home/ana/export.csv"}
	out = append(out, created, updated, renamed)

	for i, n := range []*event.Net{
		{Proto: "tcp", Family: "ipv4", Direction: "outbound", SrcIP: "10.0.0.2", SrcPort: 50000, DstIP: "203.0.113.9", DstPort: 443, DstName: "upload.example", BytesSent: 1 << 20, Reason: "interim"},
		{Proto: "tcp", Family: "ipv6", Direction: "inbound", SrcIP: "::1", SrcPort: 22, DstIP: "2001:db8::1", DstPort: 55000, BytesReceived: 10, Reason: "close"},
		{Proto: "udp", Family: "ipv4", Direction: "outbound", DstIP: "8.8.8.8", DstPort: 53, BytesSent: 90, Packets: 3, Reason: "interval"},
	} {
		ev := base(fmt.Sprint("n-", i), event.KindNetTransfer)
		ev.Net = n
		if n.Direction == "inbound" {
			ev.Process = nil
		}
		out = append(out, ev)
	}
	exec := base("p-1", event.KindProcessExec)
	exit := base("p-2", event.KindProcessExit)
	exit.Exit = &event.Exit{Code: 3}
	daemon := base("p-3", event.KindProcessExec)
	daemon.Process = service()
	return append(out, exec, exit, daemon)
}

func schema(t *testing.T) *ocsfschema.Schema {
	t.Helper()
	s, err := ocsfschema.V130()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Every kind of event vigil renders validates against OCSF 1.3.0.
func TestEvidenceValidates(t *testing.T) {
	s := schema(t)
	for _, ev := range kinds() {
		o := Evidence(ev)
		if o == nil {
			t.Errorf("%s %s: no OCSF class", ev.ID, ev.Kind)
			continue
		}
		for _, p := range s.Validate(o) {
			t.Errorf("%s %s (class %d): %s", ev.ID, ev.Kind, o.ClassUID, p)
		}
	}
}

// Statements map to Datastore Activity's own activities: a SELECT is a
// Query, not an Update; a connection is a Connect.
func TestDatastoreActivities(t *testing.T) {
	want := map[string]int{"db-0": 4, "db-1": 4, "db-2": 1, "db-3": 1, "db-4": 6, "db-5": 2, "db-6": 7, "db-7": 99, "db-8": 99, "db-session": 3}
	for _, ev := range kinds() {
		w, ok := want[ev.ID]
		if !ok {
			continue
		}
		if o := Evidence(ev); o.ActivityID != w || o.TypeUID != 600500+w {
			t.Errorf("%s (%q): activity %d type %d, want %d", ev.ID, ev.DB.Command, o.ActivityID, o.TypeUID, w)
		}
	}
}

// What 1.3.0 has attributes for is mapped there, typed: ports as numbers,
// ids as strings, bytes in query_info, a direction for every connection,
// the person as the actor's user.
func TestTypedMapping(t *testing.T) {
	evs := map[string]*Activity{}
	for _, ev := range kinds() {
		evs[ev.ID] = Evidence(ev)
	}
	q := evs["db-0"]
	if q.SrcEndpoint.Port != 40000 || q.DstEndpoint.Port != 5432 || q.SrcEndpoint.Hostname != "ws-1" || q.Database.TypeID != 1 ||
		q.QueryInfo.Bytes != 4000 || q.Actor.User.Name != "ana" || q.Actor.User.UID != "1013" || q.Actor.Session.UID != "7" {
		t.Errorf("db query: %+v %+v %+v %+v %+v", q.SrcEndpoint, q.DstEndpoint, q.Database, q.QueryInfo, q.Actor.User)
	}
	if f := evs["db-folded"]; f.SrcEndpoint.IP != "10.0.0.2" || f.DstEndpoint.Hostname != "ws-1" || f.Count != 40 || f.StartTime != t0.Add(-time.Second).UnixMilli() {
		t.Errorf("server side, folded: %+v %+v count %d", f.SrcEndpoint, f.DstEndpoint, f.Count)
	}
	if n := evs["n-0"]; n.ConnectionInfo.DirectionID != 2 || n.ConnectionInfo.ProtocolNum != 6 || n.Traffic.BytesOut != 1<<20 || n.ActivityID != 6 {
		t.Errorf("outbound: %+v %+v activity %d", n.ConnectionInfo, n.Traffic, n.ActivityID)
	}
	if n := evs["n-1"]; n.ConnectionInfo.DirectionID != 1 || n.ActivityID != 2 || n.Actor != nil {
		t.Errorf("inbound close: %+v activity %d actor %+v", n.ConnectionInfo, n.ActivityID, n.Actor)
	}
	if r := evs["f-3"]; r.ActivityID != 5 || r.File.Path != "/home/ana/export.csv" || r.FileResult.Path != "/home/ana/Dropbox/export.csv" {
		t.Errorf("rename: %+v -> %+v", r.File, r.FileResult)
	}
	if x := evs["p-2"]; x.ActivityID != 2 || x.ExitCode == nil || *x.ExitCode != 3 {
		t.Errorf("exit: activity %d code %v", x.ActivityID, x.ExitCode)
	}
}

// A db.query the agent folded from repeats carries OCSF's count and the
// period it covers; a single run carries neither.
func TestFoldedQueryCount(t *testing.T) {
	first := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ev := &event.Event{ID: "b-1", Time: first.Add(800 * time.Millisecond), Kind: event.KindDBQuery,
		DB: &event.DB{Engine: "postgresql", Command: "SELECT", Rows: 40, Executions: 40, FirstTime: first}}
	o := Evidence(ev)
	if o.Count != 40 || o.StartTime != first.UnixMilli() || o.EndTime != ev.Time.UnixMilli() {
		t.Errorf("folded query: count %v start_time %v end_time %v, want 40, %d, %d", o.Count, o.StartTime, o.EndTime, first.UnixMilli(), ev.Time.UnixMilli())
	}
	ev.DB.Executions, ev.DB.FirstTime = 0, time.Time{}
	if o = Evidence(ev); o.Count != 0 || o.StartTime != 0 || o.EndTime != 0 {
		t.Errorf("single run has count %d start %d end %d", o.Count, o.StartTime, o.EndTime)
	}
}

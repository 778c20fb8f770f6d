package event

import "testing"

var (
	backendProc = Process{PID: 900, Comm: "postgres", User: "postgres", LoginUID: NoLoginUID}
	javaProc    = Process{PID: 4242, Comm: "java", Exe: "/usr/bin/java", UID: 1201, User: "nadia", LoginUID: 1201, LoginUser: "nadia", Session: 7}
)

func serverStatement(status string) *Event {
	p := backendProc
	ev := &Event{ID: "b-1", Kind: KindDBQuery, Site: "dc", Host: "db-01", AgentID: "ag-db", Process: &p,
		DB: &DB{Engine: "postgresql", Side: "server", Client: "10.0.0.21:50432", Server: "10.0.0.5:5432"}}
	if status != "" {
		ev.Attribution = &Attribution{Status: status, Site: "leeds", Host: "ws-7", AgentID: "ag-ws", By: AttributedByCollector}
		ev.Attribution.SetProcess(&javaProc)
	}
	return ev
}

// An attributed statement is the client's person's; a duplicate or an
// unjoined one stays the server process's.
func TestPersonReadsTheAttribution(t *testing.T) {
	for status, want := range map[string]string{
		"": "postgres", AttributionAttributed: "nadia", AttributionDuplicate: "postgres", AttributionUnjoined: "postgres",
	} {
		if got := serverStatement(status).Person(); got != want {
			t.Errorf("status %q: person %q, want %q", status, got, want)
		}
	}
	if got := (&Event{}).Person(); got != "" {
		t.Errorf("an event without a process: person %q", got)
	}
}

// AsClient shows an attributed statement as the client's host and process
// would have reported it, leaving the event itself alone.
func TestAsClient(t *testing.T) {
	ev := serverStatement(AttributionAttributed)
	c := ev.AsClient()
	if c == ev || c.Site != "leeds" || c.Host != "ws-7" || c.AgentID != "ag-ws" || *c.Process != javaProc || c.DB != ev.DB || c.Attribution != ev.Attribution {
		t.Fatalf("client view %+v (process %+v), want ws-7's java with the statement and attribution", c, c.Process)
	}
	if ev.Host != "db-01" || ev.Process.Comm != "postgres" {
		t.Fatalf("AsClient changed the event: %+v", ev)
	}
	for _, status := range []string{"", AttributionDuplicate, AttributionUnjoined} {
		if ev := serverStatement(status); ev.AsClient() != ev {
			t.Errorf("status %q: AsClient made a copy", status)
		}
	}
	if (&Attribution{Status: AttributionUnjoined}).Process() != nil {
		t.Error("an unjoined attribution names a process")
	}
}

package evidence

import (
	"strings"
	"testing"

	"github.com/vigilhq/vigil/event"
)

func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		ev   *event.Event
		want string
	}{
		{&event.Event{Kind: event.KindDBQuery, DB: &event.DB{Engine: "mysql", Command: "SELECT", Statement: "SELECT * FROM customers WHERE id = ?",
			Rows: 1, Bytes: 512, DurationMS: 2, Tables: []string{"customers"}, Executions: 40}},
			"mysql SELECT: SELECT * FROM customers WHERE id = ? — 1 rows, 512 B in 2 ms; tables customers (40 runs)"},
		{&event.Event{Kind: event.KindDBSession, DB: &event.DB{Engine: "postgresql", Server: "10.0.0.5:5432", User: "ana", Encrypted: true}},
			"postgresql session to 10.0.0.5:5432 as ana: encrypted, statements not readable"},
		{&event.Event{Kind: event.KindFileWrite, File: &event.File{Path: "/media/ana/STICK/c.csv", Bytes: 3 << 30, FSType: "vfat", Mount: "/media/ana/STICK", Removable: true}},
			"wrote 3.0 GiB to /media/ana/STICK/c.csv (vfat on /media/ana/STICK, removable media)"},
		{&event.Event{Kind: event.KindNetTransfer, Net: &event.Net{Direction: "outbound", Proto: "tcp", DstIP: "203.0.113.9", DstPort: 443, BytesSent: 2048}},
			"outbound tcp to 203.0.113.9:443: 2.0 KiB sent, 0 B received"},
	} {
		if got := Describe(c.ev); got != c.want {
			t.Errorf("Describe(%s) = %q\nwant %q", c.ev.Kind, got, c.want)
		}
	}
	p := &event.Event{Process: &event.Process{Comm: "psql", PID: 7, PPID: 3, User: "svc_report", LoginUser: "ana", Session: 4, TTY: "pts/2"}}
	if got, want := Lineage(p), "psql (pid 7, parent 3) as svc_report, logged in as ana, session 4 on pts/2"; got != want {
		t.Errorf("Lineage = %q, want %q", got, want)
	}
}

// A server-side statement tied to its client end names the client's
// process and person, not the database server's backend.
func TestLineageOfAnAttributedStatement(t *testing.T) {
	e := &event.Event{Kind: event.KindDBQuery, Process: &event.Process{Comm: "postgres", PID: 900, PPID: 1, User: "postgres"},
		DB:          &event.DB{Side: "server"},
		Attribution: &event.Attribution{Status: "attributed", PID: 4242, Comm: "java", LoginUser: "jade"}}
	if got := Lineage(e); !strings.Contains(got, "java (pid 4242") || !strings.Contains(got, "logged in as jade") {
		t.Errorf("Lineage = %q, want the java client of jade", got)
	}
}

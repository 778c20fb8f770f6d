package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// The terminal line of an alert names its severity, rule, where and who.
func TestFormatAlert(t *testing.T) {
	al := &event.Event{Time: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), Site: "leeds", Host: "ws-1",
		Process: &event.Process{LoginUID: 1013, LoginUser: "ana", User: "root"},
		Alert:   &event.Alert{Rule: "db_dump_tool", Severity: "high", Summary: "ana ran pg_dump"}}
	line := FormatAlert(al)
	for _, want := range []string{"HIGH", "db_dump_tool", "site=leeds", "host=ws-1", "person=ana", "ana ran pg_dump"} {
		if !strings.Contains(line, want) {
			t.Errorf("%q lacks %q", line, want)
		}
	}
	al.Process = &event.Process{LoginUID: event.NoLoginUID}
	if line := FormatAlert(al); !strings.Contains(line, "person=-") {
		t.Errorf("no person: %q", line)
	}
}

// Outputs are opened as configured; a bad target or a short secret is an
// error at start, not a silent gap in delivery.
func TestOutputs(t *testing.T) {
	sinks, err := outputs(Config{OCSF: t.TempDir() + "/f.jsonl", OCSFWebhook: "http://127.0.0.1:1/hook",
		OCSFWebhookSecret: []byte("0123456789abcdef"), OCSFSyslog: "udp://127.0.0.1:514"})
	if err != nil || len(sinks) != 3 {
		t.Fatalf("outputs: %d, %v", len(sinks), err)
	}
	for _, s := range sinks {
		s.Close()
	}
	for _, bad := range []Config{{OCSFWebhook: "http://x", OCSFWebhookSecret: []byte("short")}, {OCSFSyslog: "x:514"}, {OCSF: "/nonexistent/dir/f"}} {
		if _, err := outputs(bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

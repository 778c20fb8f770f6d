package console

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/event"
)

// mona's upload an hour after her read, from another host, is one case
// with al-1: the cases page lists it once, and the case page shows both
// alerts, linked, and both alerts' evidence, with the reads recorded.
func TestCasePages(t *testing.T) {
	st, h := serve(t, auth.Principal{Name: "ana", Role: auth.RoleAnalyst, Person: true})
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	n := &event.Event{ID: "b2-1", Time: at, Kind: event.KindNetTransfer, Site: "leeds", Host: "jump1", AgentID: "ag-2", BootID: "b2", Seq: 1,
		Process: &event.Process{PID: 20, User: "mona"},
		Net:     &event.Net{Proto: "tcp", Direction: "outbound", DstIP: "203.0.113.9", DstPort: 443, BytesSent: 5 << 20}}
	up := &event.Event{ID: "al-2", Time: at, Kind: event.KindAlert, Site: "leeds", Host: "jump1", AgentID: "ag-2", BootID: "b2",
		Process: &event.Process{PID: 20, User: "mona"}, Alert: &event.Alert{Rule: "upload", Severity: event.SeverityCritical,
			Summary: "mona sent <5 MiB> out", Evidence: []string{"b2-1", "b1-1"}}}
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(n)
	if _, err := tx.PutEvent(n, body, at); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.PutAlert(up, at); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	w := do(h, "GET", "/cases", nil)
	page := w.Body.String()
	if w.Code != 200 || strings.Count(page, `class="case"`) != 1 || !strings.Contains(page, `href="/cases/al-1"`) ||
		!strings.Contains(page, "ws1, jump1") || !strings.Contains(page, "dump, upload") || !strings.Contains(page, "sev-critical") {
		t.Errorf("cases page: %d\n%s", w.Code, page)
	}
	w = do(h, "GET", "/cases/al-2", nil)
	page = w.Body.String()
	for _, want := range []string{`href="/alerts/al-1"`, `href="/alerts/al-2"`, "mona sent &lt;5 MiB&gt; out",
		"SELECT * FROM customers WHERE id = ?", "203.0.113.9:443", "cited by dump, upload", "b1-99"} {
		if !strings.Contains(page, want) {
			t.Errorf("the case page lacks %q", want)
		}
	}
	if c := strings.Count(page, `<li data-id="b1-1"`); c != 1 {
		t.Errorf("b1-1 shows %d times in the case's evidence, want once", c)
	}
	for _, id := range []string{"al-1", "al-2"} {
		if log, _ := st.AuditLog(context.Background(), id, 0); len(log) != 1 || log[0].Actor != "ana" || log[0].Action != "view_evidence" {
			t.Errorf("audit of %s after reading the case: %+v", id, log)
		}
	}
	if w := do(h, "GET", "/cases/nope", nil); w.Code != 404 {
		t.Errorf("an unknown case: %d", w.Code)
	}
	if w := do(h, "GET", "/cases?severity=urgent", nil); w.Code != 400 {
		t.Errorf("a bad filter: %d", w.Code)
	}
}

package console

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/event"
)

// queueIDs are the alert ids of a queue page or rows fragment, in order.
func queueIDs(body string) string {
	var ids []string
	for _, m := range regexp.MustCompile(`<tr class="alert" data-id="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return strings.Join(ids, " ")
}

// The queue is ordered by when the alert happened: an alert from the day
// before, stored after today's (a laptop back online), is below them in
// the page and in the live refresh's rows; the Older link pages on with no
// alert shown twice or skipped; a made-up position is refused with why.
func TestQueueOrderByAlertTime(t *testing.T) {
	st, h := serve(t, auth.Principal{Name: "ana", Role: auth.RoleAnalyst, Person: true})
	base := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC) // al-1's time
	var late []*event.Event
	for i, at := range []time.Duration{time.Hour, 2 * time.Hour, -24 * time.Hour} {
		late = append(late, &event.Event{ID: []string{"al-2", "al-3", "al-yesterday"}[i], Time: base.Add(at), Kind: event.KindAlert,
			Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1", Process: &event.Process{PID: 10, User: "mona"},
			Alert: &event.Alert{Rule: "usb", Severity: event.SeverityLow, Summary: "usb", Evidence: []string{}}})
	}
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, al := range late {
		if _, err := tx.PutAlert(al, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	const want = "al-3 al-2 al-1 al-yesterday"
	for _, path := range []string{"/alerts", "/alerts/rows"} {
		if got := queueIDs(do(h, "GET", path, nil).Body.String()); got != want {
			t.Errorf("%s lists %q, want %q", path, got, want)
		}
	}
	var pages []string
	path := "/alerts?limit=3&site=leeds"
	for path != "" && len(pages) < 5 {
		w := do(h, "GET", path, nil)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		pages = append(pages, queueIDs(w.Body.String()))
		path = ""
		if m := regexp.MustCompile(`id="older" href="([^"]+)"`).FindStringSubmatch(w.Body.String()); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
			if !strings.Contains(path, "site=leeds") {
				t.Errorf("the older page %q drops the filter", path)
			}
		}
	}
	if got := strings.Join(pages, " | "); got != "al-3 al-2 al-1 | al-yesterday" {
		t.Errorf("pages %q", got)
	}
	if w := do(h, "GET", "/alerts?before=yesterday", nil); w.Code != 400 || !strings.Contains(w.Body.String(), "before must be") {
		t.Errorf("a bad position: %d, want 400 saying what before must be", w.Code)
	}
}

package console

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/event"
)

// A person's page shows their alerts, their cases and their events per
// day and kind over the last 14 days; someone else's page shows none of
// them.
func TestPersonPage(t *testing.T) {
	st, _ := serve(t, auth.Principal{})
	h, err := (&Server{Store: st, Now: func() time.Time { return time.Date(2026, 1, 6, 12, 0, 0, 0, time.UTC) }}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	w := do(h, "GET", "/people/mona", nil)
	page := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("mona's page: %d %s", w.Code, page)
	}
	for _, want := range []string{`href="/alerts/al-1"`, `href="/cases/al-1"`, "<th>db.query</th>", `data-day="2026-01-06"`, `data-day="2025-12-24"`} {
		if !strings.Contains(page, want) {
			t.Errorf("mona's page lacks %q", want)
		}
	}
	if strings.Contains(page, `data-day="2025-12-23"`) {
		t.Error("mona's page shows a 15th day")
	}
	if !regexp.MustCompile(`data-day="2026-01-05"><td>2026-01-05</td><td class="count">1</td>`).MatchString(page) {
		t.Errorf("mona's page does not count her query on the 5th:\n%s", page)
	}
	w = do(h, "GET", "/people/ali", nil)
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "al-1") || strings.Contains(w.Body.String(), "<th>db.query</th>") {
		t.Errorf("ali's page shows mona's: %d\n%s", w.Code, w.Body)
	}
}

// A person's page draws, on the server, their rows, customers, uploads
// and exports per day beside their peers' median: mona's 5000 rows on the
// 5th are the rows chart's top, on the day before the last.
func TestPersonCharts(t *testing.T) {
	st, _ := serve(t, auth.Principal{})
	h, err := (&Server{Store: st, Now: func() time.Time { return time.Date(2026, 1, 6, 12, 0, 0, 0, time.UTC) }}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	page := do(h, "GET", "/people/mona", nil).Body.String()
	for _, id := range []string{"rows", "customers", "uploads", "exports"} {
		if !strings.Contains(page, `id="chart-`+id+`"`) {
			t.Errorf("mona's page has no %s chart", id)
		}
	}
	rows := page[strings.Index(page, `id="chart-rows"`):]
	rows = rows[:strings.Index(rows, "</figure>")]
	person := regexp.MustCompile(`class="person" points="([^"]+)"`).FindStringSubmatch(rows)
	if person == nil || !strings.Contains(rows, ">5000</text>") {
		t.Fatalf("the rows chart:\n%s", rows)
	}
	points := strings.Fields(person[1])
	if len(points) != 14 || !strings.HasSuffix(points[12], ",18.0") || !strings.HasSuffix(points[13], ",110.0") {
		t.Errorf("mona's rows line %v: want 14 days, the 13th at the top, the last at the baseline", points)
	}
	if !strings.Contains(page, "No one else was seen at leeds in these days") || strings.Contains(page, `class="peers"`) {
		t.Errorf("mona alone at leeds: the page draws or names peers:\n%s", page)
	}

	ben := &event.Event{ID: "b2-1", Time: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC), Kind: event.KindDBQuery, Site: "leeds",
		Host: "ws2", AgentID: "ag-2", BootID: "b2", Seq: 1, Process: &event.Process{PID: 20, User: "ben"},
		DB: &event.DB{Engine: "postgresql", Command: "SELECT", Statement: "SELECT 1", Rows: 40}}
	tx, err := st.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(ben)
	if _, err := tx.PutEvent(ben, body, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	page = do(h, "GET", "/people/mona", nil).Body.String()
	if !strings.Contains(page, "the median of 1 other person at leeds") || strings.Count(page, `class="peers"`) != 4 {
		t.Errorf("with ben at leeds, mona's page does not draw her peers:\n%s", page)
	}
}

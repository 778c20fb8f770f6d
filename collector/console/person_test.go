package console

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/auth"
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
	if !strings.Contains(page, "median of 0 other people at leeds") {
		t.Errorf("the peers note is wrong:\n%s", page)
	}
}

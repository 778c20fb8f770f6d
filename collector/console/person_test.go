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

// A person's page carries, for the charts to draw, their rows, customers,
// uploads and exports per day beside their peers' median: mona's 5000
// rows on the 5th are the rows chart's 13th of 14 days, and her peers'
// line is there only once she has peers.
func TestPersonCharts(t *testing.T) {
	st, _ := serve(t, auth.Principal{})
	h, err := (&Server{Store: st, Now: func() time.Time { return time.Date(2026, 1, 6, 12, 0, 0, 0, time.UTC) }}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	page := do(h, "GET", "/people/mona", nil).Body.String()
	for _, id := range []string{"rows", "customers", "uploads", "exports"} {
		plotOf(t, page, id)
	}
	rows := plotOf(t, page, "rows")
	if len(rows.Days) != 14 || len(rows.Series) != 1 || rows.Series[0].Label != "person" {
		t.Fatalf("the rows chart: %+v", rows)
	}
	if v := rows.Series[0].Values; len(v) != 14 || v[12] != 5000 || v[13] != 0 ||
		rows.Days[12] != time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).Unix() {
		t.Errorf("mona's rows per day %v on %v: want 5000 on the 13th day, Jan 5", v, rows.Days)
	}
	if !strings.Contains(page, "No one else was seen at leeds in these days") || strings.Contains(page, "(peers ") {
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
	rows = plotOf(t, page, "rows")
	if !strings.Contains(page, "the median of 1 other person at leeds") || len(rows.Series) != 2 || !rows.Series[1].Dash ||
		rows.Series[1].Values[12] != 40 {
		t.Errorf("with ben at leeds, mona's rows chart does not carry her peers: %+v", rows)
	}
}

// plotOf is the data of the chart id on page, as charts.js reads it.
func plotOf(t *testing.T, page, id string) plot {
	t.Helper()
	m := regexp.MustCompile(`(?s)id="chart-` + regexp.QuoteMeta(id) + `">.*?<script type="application/json" class="chart-data">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the page has no %s chart with data:\n%s", id, page)
	}
	var p plot
	if err := json.Unmarshal([]byte(m[1]), &p); err != nil {
		t.Fatalf("the %s chart's data %q: %v", id, m[1], err)
	}
	return p
}

package console

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// The queue's front page carries the last 30 days' alerts per day by
// severity and each site's events per day for the charts, and a table of
// each site's events, alerts, agents and agents not heard from: two high
// alerts today and a critical one a week ago at leeds, a low one at
// manila; one of leeds's two agents silent.
func TestQueueOverview(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 1, 20, 15, 0, 0, 0, time.UTC)
	alert := func(id, site, sev string, at time.Time) *event.Event {
		return &event.Event{ID: id, Time: at, Kind: event.KindAlert, Site: site, Host: "ws1", AgentID: "ag-" + site, BootID: "b1",
			Process: &event.Process{PID: 1, User: "mona"}, Alert: &event.Alert{Rule: "r", Severity: sev, Summary: id}}
	}
	evs := []*event.Event{alert("a1", "leeds", event.SeverityHigh, now.Add(-time.Hour)), alert("a2", "leeds", event.SeverityHigh, now.Add(-2*time.Hour)),
		alert("a3", "leeds", event.SeverityCritical, now.AddDate(0, 0, -7)), alert("a4", "manila", event.SeverityLow, now.AddDate(0, 0, -1))}
	for i := range 5 {
		evs = append(evs, &event.Event{ID: fmt.Sprintf("b1-%d", i), Seq: uint64(i), Time: now.Add(-time.Duration(i) * time.Hour),
			Kind: event.KindFileWrite, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1",
			Process: &event.Process{PID: 1, User: "mona"}, File: &event.File{Path: "/x", Bytes: 1}})
	}
	hb := func(agent, site string) *event.Event {
		return &event.Event{ID: agent + "-hb", Kind: event.KindHeartbeat, Site: site, Host: agent, AgentID: agent, BootID: "b1",
			Heartbeat: &event.Heartbeat{IntervalS: 10}}
	}
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Kind == event.KindAlert {
			_, err = tx.PutAlert(ev, now)
		} else {
			body, _ := json.Marshal(ev)
			_, err = tx.PutEvent(ev, body, now)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	live := liveness.New(liveness.Options{})
	for _, h := range []*event.Event{hb("ag-1", "leeds"), hb("ag-2", "leeds"), hb("ag-3", "manila")} {
		if err := tx.SeenAgent(h, now); err != nil {
			t.Fatal(err)
		}
		at := now
		if h.AgentID == "ag-2" {
			at = now.Add(-time.Hour)
		}
		live.Known(h.AgentID, h.Site, h.Host, h.BootID, h.Heartbeat, at)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	live.Check(now)
	h, err := (&Server{Store: st, Liveness: live, Now: func() time.Time { return now }}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	page := do(h, "GET", "/alerts", nil).Body.String()

	alerts := plotOf(t, page, "alerts-per-day")
	if len(alerts.Days) != store.OverviewDays || !alerts.Stacked || len(alerts.Series) != len(event.Severities) {
		t.Fatalf("the alerts chart: %+v", alerts)
	}
	last := store.OverviewDays - 1
	bySev := map[string][]float64{}
	for _, s := range alerts.Series {
		bySev[s.Label] = s.Values
	}
	for _, c := range []struct {
		sev       string
		day, want int
	}{{event.SeverityHigh, last, 2}, {event.SeverityCritical, last - 7, 1}, {event.SeverityLow, last - 1, 1}, {event.SeverityHigh, last - 1, 0}} {
		if got := bySev[c.sev][c.day]; got != float64(c.want) {
			t.Errorf("%s alerts on day %d: %v, want %d (%v)", c.sev, c.day, got, c.want, bySev)
		}
	}
	events := plotOf(t, page, "site-events")
	if len(events.Series) != 1 || events.Series[0].Label != "leeds" || events.Series[0].Values[last] != 5 {
		t.Errorf("the events chart, want leeds's 5 events today: %+v", events)
	}
	for site, want := range map[string]string{
		"leeds":  `<td class="count">5</td><td class="count">3</td> <td class="count">2</td><td class="count state-silent">1</td><td class="count">0</td>`,
		"manila": `<td class="count">0</td><td class="count">1</td> <td class="count">1</td><td class="count">0</td><td class="count">0</td>`,
	} {
		m := regexp.MustCompile(`(?s)<tr data-site="` + site + `">(.*?)</tr>`).FindStringSubmatch(page)
		if m == nil || !strings.Contains(strings.Join(strings.Fields(m[1]), " "), want) {
			t.Errorf("the sites table's %s row, want %s:\n%v", site, want, m)
		}
	}
}

// The front page's charts' data, as the live page fetches it, is each
// overview chart's plot by id, over the overview's 30 days, not cached.
func TestOverviewChartsData(t *testing.T) {
	_, h := serve(t, auth.Principal{Name: "ana", Role: auth.RoleAnalyst, Person: true})
	w := do(h, "GET", "/alerts/charts", nil)
	var got []chartData
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("/alerts/charts: %d %v %s", w.Code, err, w.Body)
	}
	if len(got) != 2 || got[0].ID != "alerts-per-day" || got[1].ID != "site-events" {
		t.Fatalf("charts %+v", got)
	}
	if len(got[0].Plot.Days) != 30 || len(got[0].Plot.Series) != len(event.Severities) {
		t.Errorf("the alerts chart's data: %d days, %d series", len(got[0].Plot.Days), len(got[0].Plot.Series))
	}
}

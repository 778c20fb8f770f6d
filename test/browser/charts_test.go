package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/event"
)

// dayIndex is the place of at's UTC day among the front page's 30 days
// ending today.
func dayIndex(at time.Time) int {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	return 29 - int(today.Sub(at.UTC().Truncate(24*time.Hour))/(24*time.Hour))
}

// drawnChart is what the page's uPlot holds for a chart: its series'
// labels, its data (x first) and the colour of chosen points of its
// canvas.
type drawnChart struct {
	Labels []string    `json:"labels"`
	Data   [][]float64 `json:"data"`
	Pixels [][]int     `json:"pixels"`
}

// readChart reads the uPlot of the chart id once it is drawn, and the
// canvas's colour at each (x value, y value) of at.
func readChart(t *testing.T, ctx context.Context, id string, at [][2]float64) drawnChart {
	t.Helper()
	if at == nil {
		at = [][2]float64{}
	}
	at2, _ := json.Marshal(at)
	var raw string
	run(t, ctx, "reading the chart "+id,
		until(fmt.Sprintf(`!!document.querySelector('#chart-%s.drawn')`, id)),
		chromedp.Evaluate(fmt.Sprintf(`(() => {
			const u = document.querySelector('#chart-%s').uplot;
			const px = %s.map(([x, y]) => Array.from(u.ctx.getImageData(Math.round(u.valToPos(x, 'x', true)),
				Math.round(u.valToPos(y, 'y', true)), 1, 1).data));
			return JSON.stringify({labels: u.series.map(s => s.label), data: u.data, pixels: px});
		})()`, id, at2), &raw))
	var c drawnChart
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatalf("the chart %s: %v: %s", id, err, raw)
	}
	return c
}

// series is the data of the series labelled label.
func (c drawnChart) series(t *testing.T, label string) []float64 {
	t.Helper()
	for i, l := range c.Labels {
		if l == label {
			return c.Data[i]
		}
	}
	t.Fatalf("the chart has no series %q: %v", label, c.Labels)
	return nil
}

// The front page draws, with the real store's data, the last 30 days'
// alerts per day stacked by severity (a low, a medium and a high alert
// about now, a critical one five days ago at manila) and the events per
// day of each site, and lists each site's totals: the uPlot charts hold 30
// days, each day what was stored on it, and the canvas is painted in the
// high alerts' colour at the high alert's band and the low's at the low's.
// Its front.png (go test -artifacts) is the README's
// docs/img/console-queue.png.
func TestOverviewChartsInBrowser(t *testing.T) {
	dir := t.TempDir()
	st, hs, _ := collectorHTTP(t, dir)
	old := time.Now().UTC().AddDate(0, 0, -5)
	crit := &event.Event{ID: "al-crit", Time: old, Kind: event.KindAlert, Site: "manila", Host: "ws2", AgentID: "ag-2", BootID: "b2",
		Process: &event.Process{PID: 11, User: "ali", LoginUser: "ali"},
		Alert:   &event.Alert{Rule: "db_dump_tool", Severity: event.SeverityCritical, Summary: "ali dumped a database", Evidence: []string{}}}
	seeded := append(append(highAlert(), usbAlert()...), crit)
	put(t, st, seeded...)
	ctx := browser(t)
	admin, pw := firstAdmin(t, dir)
	run(t, ctx, "signing in to the queue",
		signIn(hs.URL, admin, pw),
		chromedp.WaitVisible(`tr[data-id="al-new"]`))

	// What the chart should hold, from the seeded alerts' own days (the
	// test may run across midnight): per day, each severity's count, and
	// leeds's events.
	alertsOn := map[int]map[string]float64{dayIndex(t0): {event.SeverityLow: 1}} // collectorHTTP's al-old
	leedsOn := map[int]float64{}
	var high *event.Event
	for _, ev := range seeded {
		d := dayIndex(ev.Time)
		if ev.Kind != event.KindAlert {
			if ev.Site == "leeds" {
				leedsOn[d]++
			}
			continue
		}
		if alertsOn[d] == nil {
			alertsOn[d] = map[string]float64{}
		}
		alertsOn[d][ev.Alert.Severity]++
		if ev.Alert.Severity == event.SeverityHigh {
			high = ev
		}
	}
	// stack is the top of severity sev's band on day d: the stack is
	// ordered from info at the bottom to critical at the top.
	stack := func(d int, sev string) float64 {
		top := 0.0
		for _, s := range event.Severities {
			top += alertsOn[d][s]
			if s == sev {
				break
			}
		}
		return top
	}
	x := func(i int) float64 {
		return float64(time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, i-29).Unix())
	}
	hd, ld := dayIndex(high.Time), dayIndex(t0) // the high alert's day, al-old's (low)
	alerts := readChart(t, ctx, "alerts-per-day", [][2]float64{
		{x(hd), (stack(hd, event.SeverityMedium) + stack(hd, event.SeverityHigh)) / 2},
		{x(ld), (stack(ld, event.SeverityInfo) + stack(ld, event.SeverityLow)) / 2}})
	if len(alerts.Data) != 6 || len(alerts.Data[0]) != 30 {
		t.Fatalf("the alerts chart holds %d series of %d days, want 5 severities over 30 days: %v", len(alerts.Data)-1, len(alerts.Data[0]), alerts.Labels)
	}
	for d := range 30 {
		if alerts.Data[0][d] != x(d) {
			t.Errorf("the alerts chart's day %d is %v, want %v", d, alerts.Data[0][d], x(d))
		}
		for _, sev := range event.Severities {
			if got, want := alerts.series(t, sev)[d], stack(d, sev); got != want {
				t.Errorf("the alerts chart's %s stack on day %d is %v, want %v (%v)", sev, d, got, want, alertsOn[d])
			}
		}
	}
	if stack(dayIndex(crit.Time), event.SeverityCritical) != 1 {
		t.Fatal("the critical alert five days ago is not in the expectation")
	}
	if p := alerts.Pixels[0]; p[0] != 0xc6 || p[1] != 0x28 || p[2] != 0x28 || p[3] != 255 {
		t.Errorf("the high alert's bar is painted %v at the high band, want the high alerts' red", p)
	}
	if p := alerts.Pixels[1]; p[0] != 0x3d || p[1] != 0x7b || p[2] != 0xd9 {
		t.Errorf("the low alert's bar is painted %v at the low band, want the low alerts' blue", p)
	}

	events := readChart(t, ctx, "site-events", nil)
	leeds := events.series(t, "leeds")
	for d := range 30 {
		if leeds[d] != leedsOn[d] {
			t.Errorf("leeds's events on day %d: %v, want the %v stored", d, leeds[d], leedsOn[d])
		}
	}
	var sites string
	run(t, ctx, "reading the sites table",
		chromedp.Text(`tr[data-site="leeds"]`, &sites),
		screenshot(t.ArtifactDir(), "front.png"))
	if f := strings.Fields(sites); strings.Join(f, " ") != "leeds 4 2 0 0 0" {
		t.Errorf("leeds's row %q, want 4 events, 2 alerts and no agents", sites)
	}
}

// An agent that does not run its site's current rule bundle is marked on
// the agents page, beside the site's version: leeds is served bundle 7,
// ag-1 runs 6 and is marked, ag-4 runs 7 and is not.
func TestAgentsBundleInBrowser(t *testing.T) {
	dir := t.TempDir()
	st, hs, _ := collectorHTTPWith(t, dir, func(s *api.Server) {
		s.CurrentBundle = func(site string) uint64 { return map[string]uint64{"leeds": 7}[site] }
	})
	tx, err := st.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for id, v := range map[string]uint64{"ag-1": 6, "ag-4": 7} {
		hb := &event.Event{ID: id + "-hb", Kind: event.KindHeartbeat, Site: "leeds", Host: "ws-" + id, AgentID: id, BootID: "b1",
			Heartbeat: &event.Heartbeat{IntervalS: 10, Version: "1.4.0", RulesMode: "bundle", BundleVersion: v}}
		if err := tx.SeenAgent(hb, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	admin, pw := firstAdmin(t, dir)
	var old, current, site string
	var oldMarked, currentMarked bool
	run(t, ctx, "opening the agents page",
		signIn(hs.URL, admin, pw),
		chromedp.WaitVisible(`tr[data-id="al-old"]`),
		chromedp.Click(`nav a[href="/agents"]`),
		chromedp.WaitVisible(`#agents`, chromedp.ByID),
		chromedp.Text(`tr[data-agent="ag-1"]`, &old),
		chromedp.Text(`tr[data-agent="ag-4"]`, &current),
		chromedp.Text(`tr[data-agent="ag-1"] .site-bundle`, &site),
		chromedp.Evaluate(`(() => { const b = document.querySelector('tr[data-agent="ag-1"] .behind');
			return !!b && b.offsetWidth > 0 && getComputedStyle(b).backgroundColor === 'rgb(198, 40, 40)'; })()`, &oldMarked),
		chromedp.Evaluate(`!!document.querySelector('tr[data-agent="ag-4"] .behind') ||
			document.querySelector('tr[data-agent="ag-4"]').classList.contains('bundle-behind')`, &currentMarked),
		screenshot(t.ArtifactDir(), "agents.png"))
	if !oldMarked || !strings.Contains(old, "6 not the site's") || !strings.Contains(old, "bundle") || site != "7" {
		t.Errorf("ag-1 on bundle 6 of leeds's 7: marked %v, site's bundle %q, row %q", oldMarked, site, old)
	}
	if currentMarked || !strings.Contains(current, "7") {
		t.Errorf("ag-4 on leeds's bundle 7 is marked (%v): %q", currentMarked, current)
	}
}

package browser

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigilhq/vigil/event"
)

// With the front page open and live, a new high alert and an old alert
// stored late (a laptop back online) arrive: without a reload, the alerts
// chart's high band for today grows by one, and the queue lists the new
// alert on top and the late one below the alert it is older than, at its
// own time. A resized window redraws the charts to their boxes.
func TestChartsAndQueueFollowLiveAlertsInBrowser(t *testing.T) {
	dir := t.TempDir()
	st, hs, hub := collectorHTTP(t, dir)
	ctx := browser(t)
	admin, pw := firstAdmin(t, dir)
	high := func() string {
		return fmt.Sprintf(`document.querySelector('#chart-alerts-per-day').plot.series.find(s => s.label === 'high').values[%d]`,
			dayIndex(time.Now()))
	}
	var before float64
	var width int
	var marker bool
	run(t, ctx, "opening the live front page",
		signIn(hs.URL, admin, pw),
		chromedp.WaitVisible(`tr[data-id="al-old"]`),
		until(`document.querySelector('#live-state').textContent === 'live'`),
		until(`!!document.querySelector('#chart-alerts-per-day.drawn')`),
		chromedp.Evaluate(`window.sameLoad = true`, &marker),
		chromedp.Evaluate(high(), &before),
		chromedp.Evaluate(`document.querySelector('#chart-alerts-per-day').uplot.width`, &width))

	now := time.Now().UTC()
	put(t, st,
		&event.Event{ID: "al-live", Time: now, Kind: event.KindAlert, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1",
			Process: &event.Process{PID: 7, User: "mona", LoginUser: "mona"},
			Alert:   &event.Alert{Rule: "db_copy_out", Severity: event.SeverityHigh, Summary: "mona copied customers out", Evidence: []string{}}},
		&event.Event{ID: "al-late", Time: t0.Add(-time.Hour), Kind: event.KindAlert, Site: "manila", Host: "ws2", AgentID: "ag-2", BootID: "b2",
			Process: &event.Process{PID: 11, User: "ali", LoginUser: "ali"},
			Alert:   &event.Alert{Rule: "usb_write", Severity: event.SeverityLow, Summary: "ali wrote to a USB stick an hour earlier", Evidence: []string{}}})
	hub.Notify()

	var order string
	run(t, ctx, "waiting for the chart and the queue to follow",
		until(fmt.Sprintf(`%s === %v`, high(), before+1)),
		until(`Array.from(document.querySelectorAll('#alerts tr.alert')).map(r => r.dataset.id).join(' ') === 'al-live al-old al-late'`),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('#alerts tr.alert')).map(r => r.dataset.id).join(' ')`, &order),
		chromedp.Evaluate(`window.sameLoad === true`, &marker))
	if !marker {
		t.Error("the page reloaded to show the new alerts")
	}
	if order != "al-live al-old al-late" {
		t.Errorf("queue order %q", order)
	}

	// From two columns of charts to one: each chart takes its new box.
	var resized int
	fits := `(() => { const f = document.querySelector('#chart-alerts-per-day');
		return f.uplot.width === Math.max(f.querySelector('.plot').clientWidth, 300); })()`
	run(t, ctx, "resizing the window",
		chromedp.EmulateViewport(1000, 900),
		until(fmt.Sprintf(`document.querySelector('#chart-alerts-per-day').uplot.width !== %d && %s`, width, fits)),
		chromedp.Evaluate(`document.querySelector('#chart-alerts-per-day').uplot.width`, &resized),
		screenshot(t.ArtifactDir(), "live-resized.png"))
	if resized == width {
		t.Errorf("the chart is %d wide in another window, as before", resized)
	}
}

package console

import (
	"strconv"
	"time"

	"github.com/vigilhq/vigil/collector/evidence"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// chart is one chart of values per UTC day: the page says what it shows
// and its latest values as text, and static/charts.js draws Plot with
// uPlot.
type chart struct {
	ID, Title     string
	Last          string // the last day
	Today, PeerAt string // the last day's values, as labels (person charts)
	Plot          plot
}

// plot is what charts.js needs to draw a chart, sent as JSON in the page.
type plot struct {
	// Days are the x values: each UTC day's midnight in Unix seconds.
	Days []int64 `json:"days"`
	// Unit says how to label values: "count" or "bytes".
	Unit string `json:"unit"`
	// Stacked draws the series as bars stacked in order, the first at the
	// bottom; otherwise they are lines.
	Stacked bool     `json:"stacked"`
	Series  []series `json:"series"`
}

type series struct {
	Label  string    `json:"label"`
	Color  string    `json:"color"`
	Dash   bool      `json:"dash,omitempty"`
	Values []float64 `json:"values"`
}

func unixDays(days []time.Time) []int64 {
	out := make([]int64, len(days))
	for i, d := range days {
		out[i] = d.Unix()
	}
	return out
}

// personCharts are tr's four measures, the person's line beside their
// peers' median (dashed) when they have peers.
func personCharts(tr *store.Trend) []chart {
	count := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	size := func(v float64) string { return evidence.Bytes(uint64(v)) }
	draw := func(id, title, unit string, s store.Series, label func(float64) string) chart {
		c := chart{ID: id, Title: title, Plot: plot{Days: unixDays(tr.Days), Unit: unit,
			Series: []series{{Label: "person", Color: "#c62828", Values: s.Person}}}}
		if tr.Peers > 0 {
			c.Plot.Series = append(c.Plot.Series, series{Label: "peers' median", Color: "#8a93a3", Dash: true, Values: s.Peers})
		}
		if n := len(tr.Days); n > 0 {
			c.Last, c.Today = tr.Days[n-1].Format("Jan 2"), label(s.Person[n-1])
			if tr.Peers > 0 {
				c.PeerAt = label(s.Peers[n-1])
			}
		}
		return c
	}
	return []chart{
		draw("rows", "Rows read or changed per day", "count", tr.Rows, count),
		draw("customers", "Distinct customers (identifier values) per day", "count", tr.Customers, count),
		draw("uploads", "Bytes sent out per day", "bytes", tr.Uploads, size),
		draw("exports", "Bytes written to removable media per day", "bytes", tr.Exports, size),
	}
}

// severityColors are the severities' colours, as the style sheet's.
var severityColors = map[string]string{
	event.SeverityInfo: "#9aa3b0", event.SeverityLow: "#3d7bd9", event.SeverityMedium: "#ef8f00",
	event.SeverityHigh: "#c62828", event.SeverityCritical: "#7a0012",
}

// siteColors tell a chart's sites apart; more sites than colours reuse them.
var siteColors = []string{"#3d7bd9", "#c62828", "#2e7d32", "#ef8f00", "#6a1b9a", "#00838f", "#5d4037", "#ad1457"}

// overviewCharts are the fleet's alerts per day by severity, stacked, and
// each site's events per day.
func overviewCharts(o *store.Overview) []chart {
	days := unixDays(o.Days)
	last := ""
	if n := len(o.Days); n > 0 {
		last = o.Days[n-1].Format("Jan 2")
	}
	alerts := chart{ID: "alerts-per-day", Title: "Alerts per day, by severity", Last: last,
		Plot: plot{Days: days, Unit: "count", Stacked: true}}
	for _, sev := range event.Severities {
		alerts.Plot.Series = append(alerts.Plot.Series, series{Label: sev, Color: severityColors[sev], Values: floats(o.Alerts[sev])})
	}
	events := chart{ID: "site-events", Title: "Events per day, by site", Last: last, Plot: plot{Days: days, Unit: "count"}}
	for i, a := range o.Sites {
		if a.EventsTotal() == 0 {
			continue
		}
		events.Plot.Series = append(events.Plot.Series, series{Label: a.Site, Color: siteColors[i%len(siteColors)], Values: floats(a.Events)})
	}
	return []chart{alerts, events}
}

func floats(v []int) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

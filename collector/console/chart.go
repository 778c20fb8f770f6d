package console

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/collector/evidence"
	"github.com/vigilhq/vigil/collector/store"
)

// A chart's size in SVG user units; the page scales it.
const (
	chartW, chartH = 440.0, 130.0
	chartPadX      = 8.0
	chartPadTop    = 18.0
	chartPadBottom = 20.0
)

// chart is one measure over the days, drawn on the server as SVG: the
// person's line and their peers' median, dashed, on one scale.
type chart struct {
	ID, Title     string
	Person, Peers string // polyline points
	Top           string // the scale's top, as a label
	First, Last   string // the first and last days
	Today, PeerAt string // today's values, as labels
	W, H          float64
	Baseline      float64
}

// charts draws tr's four measures.
func charts(tr *store.Trend) []chart {
	count := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	size := func(v float64) string { return evidence.Bytes(uint64(v)) }
	return []chart{
		drawChart("rows", "Rows read or changed per day", tr.Days, tr.Rows, count),
		drawChart("customers", "Distinct customers (identifier values) per day", tr.Days, tr.Customers, count),
		drawChart("uploads", "Bytes sent out per day", tr.Days, tr.Uploads, size),
		drawChart("exports", "Bytes written to removable media per day", tr.Days, tr.Exports, size),
	}
}

func drawChart(id, title string, days []time.Time, s store.Series, label func(float64) string) chart {
	top := 0.0
	for i := range s.Person {
		top = max(top, s.Person[i], s.Peers[i])
	}
	scale := top
	if scale == 0 {
		scale = 1
	}
	points := func(vals []float64) string {
		var b strings.Builder
		step := (chartW - 2*chartPadX) / float64(max(len(vals)-1, 1))
		for i, v := range vals {
			x := chartPadX + float64(i)*step
			y := chartH - chartPadBottom - v/scale*(chartH-chartPadTop-chartPadBottom)
			fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
		}
		return strings.TrimSpace(b.String())
	}
	c := chart{ID: id, Title: title, Person: points(s.Person), Peers: points(s.Peers), Top: label(top),
		W: chartW, H: chartH, Baseline: chartH - chartPadBottom}
	if n := len(days); n > 0 {
		c.First, c.Last = days[0].Format("Jan 2"), days[n-1].Format("Jan 2")
		c.Today, c.PeerAt = label(s.Person[n-1]), label(s.Peers[n-1])
	}
	return c
}

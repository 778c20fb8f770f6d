package console

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// queueLimit is how many alerts the queue shows; filters narrow it.
const queueLimit = 200

type queueData struct {
	Filter     store.AlertFilter
	Query      string // the filter as a query string, for the live refresh
	Alerts     []store.Alert
	Counts     []sevCount
	Severities []string
	Statuses   []string
	Since      string   // as asked: a duration or a time
	Sinces     []string // the time filter's choices
	Live       bool     // the page follows the live stream
	// Older is the next page's address, "" on the last one.
	Older template.URL
	// Overview is the fleet's pictures above the queue; the live refresh
	// of the table leaves it as it was.
	Overview *overview
}

type sevCount struct {
	Severity string
	N        int
}

func (s *Server) queueData(r *http.Request) (queueData, int, error) {
	f, _, err := api.ParseFilter(r, s.now())
	if err != nil {
		return queueData{}, http.StatusBadRequest, err
	}
	f.Tail, f.After = false, 0
	if f.Limit == 0 || f.Limit > queueLimit {
		f.Limit = queueLimit
	}
	before, err := parseCursor(r.URL.Query().Get("before"))
	if err != nil {
		return queueData{}, http.StatusBadRequest, err
	}
	list, err := s.Store.QueueAlerts(r.Context(), f, before)
	if err != nil {
		return queueData{}, http.StatusInternalServerError, err
	}
	counts, err := s.Store.SeverityCounts(r.Context(), f)
	if err != nil {
		return queueData{}, http.StatusInternalServerError, err
	}
	d := queueData{Filter: f, Alerts: list, Severities: event.Severities, Statuses: store.Statuses,
		Since: r.URL.Query().Get("since"), Sinces: []string{"1h", "24h", "168h", "720h"}, Live: s.Hub != nil}
	for i := len(event.Severities) - 1; i >= 0; i-- {
		sev := event.Severities[i]
		d.Counts = append(d.Counts, sevCount{sev, counts[sev]})
	}
	q := url.Values{}
	for k, v := range map[string]string{"severity": f.MinSeverity, "status": f.Status, "site": f.Site, "host": f.Host,
		"person": f.Person, "rule": f.Rule, "since": r.URL.Query().Get("since")} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(list) == f.Limit {
		last := list[len(list)-1]
		older := url.Values{}
		for k, v := range q {
			older[k] = v
		}
		older.Set("before", formatCursor(store.QueueCursor{Time: last.Event.Time, N: last.N}))
		d.Older = template.URL("/alerts?" + older.Encode()) // encoded here: safe as it is
	}
	if before != nil {
		q.Set("before", formatCursor(*before))
	}
	d.Query = q.Encode()
	return d, http.StatusOK, nil
}

// formatCursor writes a queue page's end as "MILLISECONDS.NUMBER".
func formatCursor(c store.QueueCursor) string {
	return strconv.FormatInt(c.Time.UnixMilli(), 10) + "." + strconv.FormatInt(c.N, 10)
}

// parseCursor reads what formatCursor wrote; "" is the first page.
func parseCursor(v string) (*store.QueueCursor, error) {
	if v == "" {
		return nil, nil
	}
	at, n, ok := strings.Cut(v, ".")
	msec, err1 := strconv.ParseInt(at, 10, 64)
	num, err2 := strconv.ParseInt(n, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return nil, errors.New("before must be a queue position like 1767600000000.42 (from the Older alerts link)")
	}
	return &store.QueueCursor{Time: time.UnixMilli(msec), N: num}, nil
}

// queue is the alert queue page; its table refreshes itself from rows
// when the live stream says so.
func (s *Server) queue(w http.ResponseWriter, r *http.Request) {
	d, code, err := s.queueData(r)
	if err != nil {
		s.fail(w, code, err)
		return
	}
	if d.Overview, err = s.overview(r); err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	s.render(w, r, http.StatusOK, "queue", "Alerts", d)
}

// rows is the queue's table body and counts, which the page fetches when
// the live stream says they changed.
func (s *Server) rows(w http.ResponseWriter, r *http.Request) {
	d, code, err := s.queueData(r)
	if err != nil {
		s.fail(w, code, err)
		return
	}
	s.render(w, r, http.StatusOK, "rows", "", d)
}

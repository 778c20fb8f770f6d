package console

import (
	"net/http"
	"net/url"

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
	list, err := s.Store.Alerts(r.Context(), f)
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
	d.Query = q.Encode()
	return d, http.StatusOK, nil
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

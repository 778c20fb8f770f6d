package console

import (
	"net/http"
	"slices"

	"github.com/vigilhq/vigil/collector/store"
)

// personAlerts is how many of a person's newest alerts their page lists.
const personAlerts = 100

type personData struct {
	Person   string
	Alerts   []store.Alert
	Cases    []store.Case
	Kinds    []string // the event kinds in Activity, sorted
	Activity []store.DayActivity
	Trend    *store.Trend
	Charts   []chart
}

// person shows one person's alerts, cases and events per day and kind.
func (s *Server) person(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	ctx := r.Context()
	alerts, err := s.Store.Alerts(ctx, store.AlertFilter{Person: name, Limit: personAlerts})
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	cases, err := s.Store.Cases(ctx, store.AlertFilter{Person: name})
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	days, err := s.Store.Activity(ctx, name, s.now())
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	trend, err := s.Store.PersonTrend(ctx, name, s.now())
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	var kinds []string
	for _, d := range days {
		for k := range d.Counts {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	slices.Sort(kinds)
	s.render(w, r, http.StatusOK, "person", name, personData{Person: name, Alerts: alerts, Cases: cases, Kinds: kinds, Activity: days,
		Trend: trend, Charts: personCharts(trend)})
}

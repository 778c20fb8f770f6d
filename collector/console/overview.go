package console

import (
	"encoding/json"
	"net/http"

	"github.com/vigilhq/vigil/collector/store"
)

// overview is the front page's pictures: the fleet's alerts per day and
// each site's activity, with its agents and how many are not heard from.
type overview struct {
	Days   int
	Charts []chart
	Sites  []siteRow
}

// siteRow is one site's totals over the overview's days and its agents
// now.
type siteRow struct {
	Site                    string
	Events, Alerts          int
	Agents, Silent, Stopped int
}

// overview counts the front page's pictures.
func (s *Server) overview(r *http.Request) (*overview, error) {
	o, err := s.Store.Overview(r.Context(), s.now())
	if err != nil {
		return nil, err
	}
	agents, err := s.Store.Agents(r.Context())
	if err != nil {
		return nil, err
	}
	rows := map[string]*siteRow{}
	var order []string
	row := func(site string) *siteRow {
		if rows[site] == nil {
			rows[site] = &siteRow{Site: site}
			order = append(order, site)
		}
		return rows[site]
	}
	for _, a := range o.Sites {
		sr := row(a.Site)
		sr.Events, sr.Alerts = a.EventsTotal(), a.AlertsTotal()
	}
	for _, a := range agents {
		sr := row(a.Site)
		sr.Agents++
		if s.Liveness == nil {
			continue
		}
		switch s.Liveness.Status(a.AgentID) {
		case "silent":
			sr.Silent++
		case "stopped":
			sr.Stopped++
		}
	}
	out := &overview{Days: store.OverviewDays, Charts: overviewCharts(o)}
	for _, site := range order {
		out.Sites = append(out.Sites, *rows[site])
	}
	return out, nil
}

// chartData is one chart's data as the front page fetches it anew.
type chartData struct {
	ID   string `json:"id"`
	Plot plot   `json:"plot"`
}

// overviewData is the front page's charts' data, which the page fetches
// to redraw them when the live stream says alerts changed.
func (s *Server) overviewData(w http.ResponseWriter, r *http.Request) {
	o, err := s.overview(r)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	out := make([]chartData, 0, len(o.Charts))
	for _, c := range o.Charts {
		out = append(out, chartData{ID: c.ID, Plot: c.Plot})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(out); err != nil {
		s.log().Debug("sending the overview's charts", "err", err) // the client went away
	}
}

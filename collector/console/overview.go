package console

import (
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

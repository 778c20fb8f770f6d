package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vigilhq/vigil/event"
)

// OverviewDays is how many UTC days, today included, the console's front
// page covers: the events' default retention.
const OverviewDays = 30

// Overview is what the fleet did per UTC day over the OverviewDays days
// ending with now's, oldest first: alerts by severity, and each site's
// events and alerts.
type Overview struct {
	Days []time.Time `json:"days"`
	// Alerts counts the alerts of each day by severity; every severity in
	// event.Severities is there, with zeros on quiet days.
	Alerts map[string][]int `json:"alerts"`
	// Sites are every site heard from or alerted on, by name.
	Sites []SiteActivity `json:"sites"`
}

// SiteActivity is one site's events and alerts per day.
type SiteActivity struct {
	Site   string `json:"site"`
	Events []int  `json:"events"`
	Alerts []int  `json:"alerts"`
}

// EventsTotal is the site's events over the days.
func (a SiteActivity) EventsTotal() int { return sum(a.Events) }

// AlertsTotal is the site's alerts over the days.
func (a SiteActivity) AlertsTotal() int { return sum(a.Alerts) }

func sum(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

// overviewAlertsQuery counts alerts by day, severity and site between two
// times from the alerts_time index alone.
const overviewAlertsQuery = `SELECT time / 86400000, severity, site, count(*) FROM alerts
	WHERE time >= ? AND time < ? GROUP BY 1, 2, 3`

// overviewSiteEventsQuery counts one site's events by day between two
// times from the events_site_measures index alone; asked site by site, each
// is a range of that index, where one query grouped by site would read
// every event of the days.
const overviewSiteEventsQuery = `SELECT time / 86400000, count(*) FROM events
	WHERE site = ? AND time >= ? AND time < ? GROUP BY 1`

// Overview counts the fleet's alerts and each site's events and alerts per
// UTC day (see Overview).
func (s *Store) Overview(ctx context.Context, now time.Time) (*Overview, error) {
	today := now.UTC().Truncate(24 * time.Hour)
	from, to := today.AddDate(0, 0, -(OverviewDays-1)), today.AddDate(0, 0, 1)
	o := &Overview{Alerts: map[string][]int{}}
	for i := range OverviewDays {
		o.Days = append(o.Days, from.AddDate(0, 0, i))
	}
	for _, sev := range event.Severities {
		o.Alerts[sev] = make([]int, OverviewDays)
	}
	index := func(day int64) (int, bool) {
		i := int(day - from.Unix()/86400)
		return i, i >= 0 && i < OverviewDays
	}
	sites := map[string]*SiteActivity{}
	site := func(name string) *SiteActivity {
		if sites[name] == nil {
			sites[name] = &SiteActivity{Site: name, Events: make([]int, OverviewDays), Alerts: make([]int, OverviewDays)}
		}
		return sites[name]
	}

	known, err := s.siteNames(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range known {
		site(name)
	}
	rows, err := s.db.QueryContext(ctx, overviewAlertsQuery, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("counting alerts per day: %w", err)
	}
	for rows.Next() {
		var day int64
		var sev, name string
		var n int
		if err := rows.Scan(&day, &sev, &name, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("counting alerts per day: %w", err)
		}
		i, ok := index(day)
		if !ok {
			continue
		}
		if o.Alerts[sev] == nil { // a severity this collector does not know still counts
			o.Alerts[sev] = make([]int, OverviewDays)
		}
		o.Alerts[sev][i] += n
		site(name).Alerts[i] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting alerts per day: %w", err)
	}
	for _, name := range known {
		if err := s.siteEvents(ctx, site(name), from, to, index); err != nil {
			return nil, err
		}
	}
	for _, a := range sites {
		o.Sites = append(o.Sites, *a)
	}
	slices.SortFunc(o.Sites, func(a, b SiteActivity) int {
		switch {
		case a.Site < b.Site:
			return -1
		case a.Site > b.Site:
			return 1
		}
		return 0
	})
	return o, nil
}

// siteNamesQuery lists the sites heard from and those of the events kept,
// the latter by jumping from one site to the next in events_site_measures
// rather than reading every event.
const siteNamesQuery = `WITH RECURSIVE s(site) AS (
		SELECT min(site) FROM events
		UNION ALL SELECT (SELECT min(site) FROM events WHERE site > s.site) FROM s WHERE s.site IS NOT NULL)
	SELECT site FROM s WHERE site IS NOT NULL UNION SELECT site FROM sites ORDER BY 1`

// siteNames lists the sites heard from or with events kept.
func (s *Store) siteNames(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, siteNamesQuery)
	if err != nil {
		return nil, fmt.Errorf("listing sites: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("listing sites: %w", err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing sites: %w", err)
	}
	return out, nil
}

// siteEvents counts a's site's events per day between from and to.
func (s *Store) siteEvents(ctx context.Context, a *SiteActivity, from, to time.Time, index func(int64) (int, bool)) error {
	rows, err := s.db.QueryContext(ctx, overviewSiteEventsQuery, a.Site, ms(from), ms(to))
	if err != nil {
		return fmt.Errorf("counting the events of site %s per day: %w", a.Site, err)
	}
	defer rows.Close()
	for rows.Next() {
		var day int64
		var n int
		if err := rows.Scan(&day, &n); err != nil {
			return fmt.Errorf("counting the events of site %s per day: %w", a.Site, err)
		}
		if i, ok := index(day); ok {
			a.Events[i] += n
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("counting the events of site %s per day: %w", a.Site, err)
	}
	return nil
}

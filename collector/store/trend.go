package store

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Trend measures, per UTC day over the ActivityDays days ending with
// now's (oldest first, for charts), what a person moved and the median of
// the same among their site's other people: the peers beside them.
type Trend struct {
	Days  []time.Time `json:"days"`
	Sites []string    `json:"sites"` // the sites the person was seen at in these days
	Peers int         `json:"peers"` // how many other people those sites had in these days
	// Rows is the rows their database statements returned or changed.
	Rows Series `json:"rows"`
	// Customers is how many distinct identifier values (the keyed hashes in
	// db.identifiers, such as customer ids) their statements named.
	Customers Series `json:"customers"`
	// Uploads is the bytes their outbound connections sent.
	Uploads Series `json:"uploads"`
	// Exports is the bytes they wrote to removable media.
	Exports Series `json:"exports"`
}

// Series is one measure per day: the person's, and their peers' median.
type Series struct {
	Person []float64 `json:"person"`
	Peers  []float64 `json:"peers"`
}

// trendSitesQuery lists the sites a person was seen at between two times.
const trendSitesQuery = `SELECT DISTINCT site FROM events WHERE person = ? AND time >= ? AND time < ? ORDER BY site`

// trendQuery sums, per person and day, the rows, uploaded bytes and bytes
// written to removable media of the events where keeps between two times:
// the measure columns, which a site's index holds (see measures).
func trendQuery(where string) string {
	return `SELECT person, time / 86400000, sum(db_rows), sum(upload_bytes), sum(export_bytes)
		FROM events WHERE ` + where + ` AND time >= ? AND time < ? GROUP BY 1, 2`
}

// trendCustomersQuery counts, per person and day, the distinct identifier
// hashes the statements where keeps named between two times.
func trendCustomersQuery(d *dialect, where string) string {
	return `SELECT person, time / 86400000, count(DISTINCT h.value)
		FROM events, ` + d.eachIdent + `
		WHERE ` + where + ` AND time >= ? AND time < ? AND idents IS NOT NULL GROUP BY 1, 2`
}

// The measures' wheres: a person's events, and their peers' at a site.
const (
	wherePerson = `person = ?`
	wherePeers  = `site = ? AND person != ?`
)

// PersonTrend measures person's days and their peers' (see Trend).
func (s *Store) PersonTrend(ctx context.Context, person string, now time.Time) (*Trend, error) {
	today := now.UTC().Truncate(24 * time.Hour)
	from, to := today.AddDate(0, 0, -(ActivityDays-1)), today.AddDate(0, 0, 1)
	tr := &Trend{}
	for i := range ActivityDays {
		tr.Days = append(tr.Days, from.AddDate(0, 0, i))
	}
	rows, err := s.db.QueryContext(ctx, trendSitesQuery, person, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("finding the sites of %s: %w", person, err)
	}
	for rows.Next() {
		var site string
		if err := rows.Scan(&site); err != nil {
			rows.Close()
			return nil, fmt.Errorf("finding the sites of %s: %w", person, err)
		}
		tr.Sites = append(tr.Sites, site)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("finding the sites of %s: %w", person, err)
	}
	// Each person's measures per day: the person's own, and every peer's
	// at their sites (a site's events by time, then by person).
	byPerson := map[string]*[4][ActivityDays]float64{}
	add := func(who string, day int64, m int, v float64) {
		i := int(day - from.Unix()/86400)
		if i < 0 || i >= ActivityDays || who == "" {
			return
		}
		if byPerson[who] == nil {
			byPerson[who] = &[4][ActivityDays]float64{}
		}
		byPerson[who][m][i] += v
	}
	scan := func(where string, args ...any) error {
		rows, err := s.db.QueryContext(ctx, trendQuery(where), append(args, ms(from), ms(to))...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var who string
			var day int64
			var r, up, ex float64
			if err := rows.Scan(&who, &day, &r, &up, &ex); err != nil {
				return err
			}
			add(who, day, 0, r)
			add(who, day, 2, up)
			add(who, day, 3, ex)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = s.db.QueryContext(ctx, trendCustomersQuery(s.d, where),
			append(args, ms(from), ms(to))...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var who string
			var day int64
			var n float64
			if err := rows.Scan(&who, &day, &n); err != nil {
				return err
			}
			add(who, day, 1, n)
		}
		return rows.Err()
	}
	if err := scan(wherePerson, person); err != nil {
		return nil, fmt.Errorf("measuring the days of %s: %w", person, err)
	}
	for _, site := range tr.Sites {
		if err := scan(wherePeers, site, person); err != nil {
			return nil, fmt.Errorf("measuring the days of %s's peers at %s: %w", person, site, err)
		}
	}
	own := byPerson[person]
	delete(byPerson, person)
	tr.Peers = len(byPerson)
	for m, series := range []*Series{&tr.Rows, &tr.Customers, &tr.Uploads, &tr.Exports} {
		series.Person, series.Peers = make([]float64, ActivityDays), make([]float64, ActivityDays)
		for i := range ActivityDays {
			if own != nil {
				series.Person[i] = own[m][i]
			}
			var vals []float64
			for _, p := range byPerson {
				vals = append(vals, p[m][i])
			}
			series.Peers[i] = median(vals)
		}
	}
	return tr, nil
}

// median is the middle of vals (the mean of the two middles), 0 for none.
func median(vals []float64) float64 {
	if len(vals) == 0 {
		return 0
	}
	slices.Sort(vals)
	n := len(vals)
	if n%2 == 1 {
		return vals[n/2]
	}
	return (vals[n/2-1] + vals[n/2]) / 2
}

package store

import (
	"context"
	"fmt"
	"time"
)

// ActivityDays is how many days, today included, a person's activity
// covers: two working weeks, enough to see a day stand out from the rest.
const ActivityDays = 14

// DayActivity is how many events of each kind a person caused on one UTC
// day.
type DayActivity struct {
	Day    time.Time      `json:"day"` // midnight UTC
	Counts map[string]int `json:"counts"`
}

// activityQuery counts a person's events by day and kind between two times.
const activityQuery = `SELECT time / 86400000, kind, count(*) FROM events
	WHERE person = ? AND time >= ? AND time < ? GROUP BY 1, 2`

// Activity counts person's stored events by UTC day and kind over the
// ActivityDays days ending with now's, newest day first; a day with none
// is there with no counts.
func (s *Store) Activity(ctx context.Context, person string, now time.Time) ([]DayActivity, error) {
	today := now.UTC().Truncate(24 * time.Hour)
	from := today.AddDate(0, 0, -(ActivityDays - 1))
	out := make([]DayActivity, ActivityDays)
	for i := range out {
		out[i] = DayActivity{Day: today.AddDate(0, 0, -i), Counts: map[string]int{}}
	}
	rows, err := s.db.QueryContext(ctx, activityQuery, person, ms(from), ms(today.AddDate(0, 0, 1)))
	if err != nil {
		return nil, fmt.Errorf("counting the activity of %s: %w", person, err)
	}
	defer rows.Close()
	for rows.Next() {
		var day int64
		var kind string
		var n int
		if err := rows.Scan(&day, &kind, &n); err != nil {
			return nil, fmt.Errorf("counting the activity of %s: %w", person, err)
		}
		i := int(today.Unix()/86400 - day)
		if i >= 0 && i < ActivityDays {
			out[i].Counts[kind] += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting the activity of %s: %w", person, err)
	}
	return out, nil
}

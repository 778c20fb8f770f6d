package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// QueueCursor is where a page of the queue ended: its last alert's event
// time and number, which together order every alert once.
type QueueCursor struct {
	Time time.Time
	N    int64
}

// QueueAlerts lists the alerts f keeps (its Tail and After ignored) by the
// alert's own time, newest first and by number among alerts of the same
// millisecond, so an old alert stored late sits with its time, not on top;
// with before, only those after it in that order, for the next page.
func (s *Store) QueueAlerts(ctx context.Context, f AlertFilter, before *QueueCursor) ([]Alert, error) {
	f.Tail, f.After = false, 0
	from, args, err := alertsFrom(f)
	if err != nil {
		return nil, err
	}
	if before != nil {
		cond := "(time < ? OR (time = ? AND n < ?))"
		if len(args) > 0 { // alertsFrom has a WHERE exactly when it has arguments
			from += " AND " + cond
		} else {
			from += " WHERE " + cond
		}
		at := ms(before.Time)
		args = append(args, at, at, before.N)
	}
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	q := "SELECT n, received, person, body, COALESCE(t.status, 'open')" + from + fmt.Sprintf(" ORDER BY time DESC, n DESC LIMIT %d", limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing the alert queue: %w", err)
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		var a Alert
		var rec int64
		var body []byte
		if err := rows.Scan(&a.N, &rec, &a.Person, &body, &a.Status); err != nil {
			return nil, fmt.Errorf("listing the alert queue: %w", err)
		}
		a.Received = fromMS(rec)
		if err := json.Unmarshal(body, &a.Event); err != nil {
			return nil, fmt.Errorf("decoding alert %d: %w", a.N, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing the alert queue: %w", err)
	}
	return out, nil
}

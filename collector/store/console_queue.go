package store

import (
	"context"
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
	return s.listAlerts(ctx, "listing the alert queue", from+fmt.Sprintf(" ORDER BY time DESC, n DESC LIMIT %d", limit), args)
}

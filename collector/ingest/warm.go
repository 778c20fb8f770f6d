package ingest

import (
	"context"
	"time"

	"github.com/vigilhq/vigil/collector/attribute"
	"github.com/vigilhq/vigil/event"
)

// Warm feeds recently stored events to the correlator, so windows survive a
// collector restart; the alerts they raise were stored before and are
// dropped (their ids are deterministic). The events also rebuild the join
// of server-side statements with their client ends: the statements stored
// but not yet judged when the collector stopped (those received within the
// grace period of the last event stored) are taken again after every
// report was relearned, and judged now or when their grace period, from
// now, ends. Older unjudged ones (stored before the join existed) are left
// as they are.
func (in *Ingest) Warm(ctx context.Context, since time.Duration, limit int) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	now := in.o.Now().UTC()
	n := 0
	type unjudged struct {
		ev       *event.Event
		received time.Time
	}
	var waiting []unjudged
	var last time.Time
	err := in.o.Store.RecentEvents(ctx, now.Add(-since), limit, func(ev *event.Event, received time.Time) {
		n++
		last = received
		if ev.Attribution == nil && attribute.Attributes(ev) {
			waiting = append(waiting, unjudged{ev, received})
			return
		}
		for _, o := range in.join.Take(ev, now) {
			if in.o.Correlation != nil {
				in.o.Correlation.Process(o.Event.AsClient())
			}
		}
	})
	if err != nil {
		return n, err
	}
	var judged []attribute.Out
	for _, w := range waiting {
		if w.received.Before(last.Add(-in.join.Grace())) {
			continue
		}
		judged = append(judged, in.join.Take(w.ev, now)...)
	}
	if len(judged) == 0 {
		return n, nil
	}
	// Judged only now: their judgement and its alerts are new.
	tx, err := in.o.Store.Begin(ctx)
	if err != nil {
		return n, err
	}
	defer tx.Rollback()
	b := newBatch(tx, now, laneEvents)
	defer in.keepJudgements(b)
	if err := in.handOn(b, judged); err != nil {
		return n, err
	}
	if err := b.commit(); err != nil {
		return n, err
	}
	in.countAttribution(b)
	in.announce(b.alerts)
	return n, in.route(ctx, b)
}

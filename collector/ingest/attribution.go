package ingest

import (
	"context"
	"errors"
	"time"

	"github.com/vigilhq/vigil/collector/attribute"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// attribute passes one stored event through the join of server-side
// statements with their client ends, and hands on what comes out: a
// statement just judged has its stored copy updated; every event the
// join lets go runs the correlation rules as its client end would be seen
// (event.Event.AsClient). A held statement runs them when it is judged.
func (in *Ingest) attribute(b *batch, ev *event.Event) error {
	return in.handOn(b, in.join.Take(ev, b.now))
}

func (in *Ingest) handOn(b *batch, outs []attribute.Out) error {
	for _, o := range outs {
		if o.Judged {
			err := b.tx.UpdateEvent(o.Event)
			if errors.Is(err, store.ErrNotFound) {
				// Its own batch failed: it is delivered again and judged
				// then, so neither stored nor run through the rules now.
				continue
			}
			if err != nil {
				return err
			}
			b.judged = append(b.judged, o.Event)
			a := o.Event.Attribution
			b.attributed[[2]string{a.Status, a.Reason}]++
		}
		if in.o.Route != nil {
			b.routed = append(b.routed, o.Event.AsClient())
			continue
		}
		if in.o.Correlation == nil {
			continue
		}
		for _, al := range in.o.Correlation.Process(o.Event.AsClient()) {
			if err := b.putAlert(&al, "correlation"); err != nil {
				return err
			}
		}
	}
	return nil
}

// keepJudgements makes sure the judgements batch b made are not lost if it
// does not commit: deferred right after b is made, it hands them back to
// the join unless b committed.
func (in *Ingest) keepJudgements(b *batch) {
	if !b.committed {
		in.join.Rehold(b.judged)
	}
}

// expireHeld judges, within batch b, the statements whose grace period is
// over.
func (in *Ingest) expireHeld(b *batch) error {
	return in.handOn(b, in.join.Expire(b.now))
}

// countAttribution adds what a committed batch judged to the metrics.
func (in *Ingest) countAttribution(b *batch) {
	m := in.o.Metrics
	for k, n := range b.attributed {
		m.Attributions.WithLabelValues(k[0], k[1]).Add(float64(n))
	}
	s := in.join.Stats()
	m.AttributionHeld.Set(float64(s.Held))
	m.AttributionConns.Set(float64(s.Conns))
	m.AttributionOverflowed.Add(float64(s.Overflowed - in.joinSeen.Overflowed))
	m.AttributionEvicted.Add(float64(s.ConnsEvicted + s.AddrsEvicted - in.joinSeen.ConnsEvicted - in.joinSeen.AddrsEvicted))
	in.joinSeen = s
}

// CheckHeld judges the statements whose grace period is over, in a batch
// of their own: a statement waiting for its client end is judged on time
// even when nothing else arrives.
func (in *Ingest) CheckHeld(ctx context.Context) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.join.Stats().Held == 0 {
		return nil
	}
	tx, err := in.o.Store.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	b := newBatch(tx, in.o.Now().UTC(), laneEvents)
	defer in.keepJudgements(b)
	if err := in.expireHeld(b); err != nil {
		return err
	}
	if err := b.commit(); err != nil {
		return err
	}
	in.countAttribution(b)
	in.announce(b.alerts)
	return in.route(ctx, b)
}

// WatchHeld runs CheckHeld every interval until ctx ends.
func (in *Ingest) WatchHeld(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := in.CheckHeld(ctx); err != nil {
				in.o.Logger.Error("storing attributed statements", "err", err)
			}
		}
	}
}

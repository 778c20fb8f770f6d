package forward

import (
	"context"
	"errors"
	"time"

	"github.com/vigilhq/vigil/collector/store"
)

// Retries back off to a ceiling, so a receiver back from an outage gets
// the backlog soon.
const (
	retryMax = 5 * time.Minute
	// page is how many alerts an output reads at a time.
	page = 200
)

// output delivers alerts to one sink in order.
type output struct {
	fw    *Forwarder
	sink  Sink
	after int64 // the last alert delivered
	retry time.Duration
}

func (o *output) run(ctx context.Context) {
	if !o.start(ctx) {
		return
	}
	for {
		progressed, wait := o.step(ctx)
		if o.fw.stepped != nil {
			o.fw.stepped(o.sink.Name())
		}
		if ctx.Err() != nil {
			return
		}
		if progressed {
			continue
		}
		var wake <-chan struct{}
		if o.fw.o.Wake != nil {
			wake = o.fw.o.Wake()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// start finds where the output stands: its saved cursor, or for a new
// output the newest alert (or the beginning with FromStart).
func (o *output) start(ctx context.Context) bool {
	log := o.fw.o.Logger.With("output", o.sink.Name())
	for ctx.Err() == nil {
		n, ok, err := o.fw.o.Store.OutputCursor(ctx, o.sink.Name())
		if err == nil && !ok {
			if !o.fw.o.FromStart {
				n, err = o.fw.o.Store.LastAlertN(ctx)
			}
			if err == nil {
				err = o.fw.o.Store.SetOutputCursor(ctx, o.sink.Name(), n, o.fw.o.Now())
			}
		}
		if err == nil {
			o.after = n
			log.Info("output delivering alerts", "after", n)
			return true
		}
		log.Error("reading where the output stands; trying again", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(o.fw.o.Retry):
		}
	}
	return false
}

// step delivers what it can; it says whether it delivered anything and,
// if not, how long to wait before looking again.
func (o *output) step(ctx context.Context) (progressed bool, wait time.Duration) {
	name := o.sink.Name()
	log := o.fw.o.Logger.With("output", name)
	alerts, err := o.fw.o.Store.Alerts(ctx, store.AlertFilter{Tail: true, After: o.after, Limit: page})
	if err != nil {
		log.Error("listing alerts to deliver", "err", err)
		return false, o.fw.o.Poll
	}
	o.fw.m.pending.WithLabelValues(name).Set(float64(len(alerts)))
	for _, a := range alerts {
		f, body, ready, err := o.fw.render(ctx, a)
		if err != nil {
			log.Error("rendering a finding", "alert", a.Event.ID, "err", err)
			return progressed, o.fw.o.Poll
		}
		if !ready {
			return progressed, o.fw.o.Poll
		}
		err = o.sink.Send(ctx, f, body)
		switch {
		case err == nil:
			o.fw.m.delivered.WithLabelValues(name).Inc()
			o.fw.m.lastSuccess.WithLabelValues(name).SetToCurrentTime()
		case errors.Is(err, ErrRejected):
			o.fw.m.rejected.WithLabelValues(name).Inc()
			log.Error("the receiver refused a finding; it is skipped", "alert", a.Event.ID, "err", err)
		default:
			if ctx.Err() != nil {
				return progressed, 0
			}
			o.fw.m.failed.WithLabelValues(name).Inc()
			o.retry = min(max(2*o.retry, o.fw.o.Retry), retryMax)
			log.Warn("delivering a finding failed; retrying", "alert", a.Event.ID, "in", o.retry, "err", err)
			return progressed, o.retry
		}
		o.retry = 0
		o.after = a.N
		if err := o.fw.o.Store.SetOutputCursor(ctx, name, a.N, o.fw.o.Now()); err != nil {
			// Delivered but not recorded: sent again after a restart,
			// which the receiver's dedupe absorbs.
			log.Warn("saving where the output stands", "err", err)
		}
		progressed = true
	}
	return progressed, o.fw.o.Poll
}

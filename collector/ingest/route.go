package ingest

import (
	"context"
	"fmt"

	"github.com/vigilhq/vigil/collector/attribute"
	"github.com/vigilhq/vigil/event"
)

// route hands a committed batch's correlation inputs to Options.Route. An
// error leaves the batch unacknowledged: redelivered, its events are
// duplicates and routed again (reroute), and the stream keeps each once.
func (in *Ingest) route(ctx context.Context, b *batch) error {
	if in.o.Route == nil || len(b.routed) == 0 {
		return nil
	}
	if err := in.o.Route(ctx, b.routed); err != nil {
		return fmt.Errorf("routing %d correlation inputs: %w", len(b.routed), err)
	}
	return nil
}

// reroute routes again an event found already stored: its first batch
// may have committed and failed to route. A statement the join would
// hold is routed when it is judged, by whichever collector stored it.
func (in *Ingest) reroute(b *batch, ev *event.Event) {
	if in.o.Route == nil || ev.Kind == event.KindHeartbeat || (ev.Attribution == nil && attribute.Attributes(ev)) {
		return
	}
	b.routed = append(b.routed, ev.AsClient())
}

// PutAlerts stores alerts raised by the correlation of the partitions
// this collector owns, and hands on those not stored before.
func (in *Ingest) PutAlerts(ctx context.Context, alerts []event.Event) error {
	ptrs := make([]*event.Event, len(alerts))
	for i := range alerts {
		ptrs[i] = &alerts[i]
	}
	return in.storeAlerts(ctx, ptrs, "correlation")
}

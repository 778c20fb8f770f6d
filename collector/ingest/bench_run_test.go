package ingest

import (
	"context"

	"github.com/vigilhq/vigil/collector/bus"
)

// runIngest runs in on the collector's consumers until ctx ends.
func runIngest(ctx context.Context, in *Ingest, b *bus.Bus) error {
	cons, err := b.Consumer(ctx)
	if err != nil {
		return err
	}
	prio, err := b.PriorityConsumer(ctx)
	if err != nil {
		return err
	}
	return in.Run(ctx, cons, prio)
}

package correlate

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/event"
)

// Router publishes correlation inputs to the correlation stream.
type Router struct {
	JS jetstream.JetStream
	// Wait bounds the wait for the stream's acknowledgements (default 10s).
	Wait time.Duration
}

// Route publishes evs and waits until the stream has them all. Each is
// published under its event id, so an input routed again (a batch
// redelivered after a crash) is kept once.
func (r *Router) Route(ctx context.Context, evs []*event.Event) error {
	wait := r.Wait
	if wait == 0 {
		wait = 10 * time.Second
	}
	acks := make([]jetstream.PubAckFuture, 0, len(evs))
	var buf []byte
	for _, ev := range evs {
		var err error
		buf, err = event.AppendJSON(buf[:0], ev)
		if err != nil {
			return fmt.Errorf("encoding correlation input %s: %w", ev.ID, err)
		}
		var opts []jetstream.PublishOpt
		if ev.ID != "" {
			opts = append(opts, jetstream.WithMsgID(ev.ID))
		}
		f, err := r.JS.PublishAsync(Subject, append([]byte(nil), buf...), opts...)
		if err != nil {
			return fmt.Errorf("publishing correlation input %s: %w", ev.ID, err)
		}
		acks = append(acks, f)
	}
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	for _, f := range acks {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("publishing correlation input: %w", err)
		case <-timeout.C:
			return fmt.Errorf("publishing correlation inputs: no acknowledgement from stream %s in %s", Stream, wait)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

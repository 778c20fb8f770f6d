package checkpoint

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/vigilhq/vigil/collector/store"
)

// Checkpointer signs the chain's head while it moves, and once more as the
// collector stops, and sends each checkpoint to every publisher.
type Checkpointer struct {
	Store      *store.Store
	Key        ed25519.PrivateKey
	Publishers []Publisher
	Every      time.Duration // default one minute
	Log        *slog.Logger
	// Now is the clock of checkpoint times (time.Now when nil).
	Now func() time.Time

	last   int64
	loaded bool
	failed atomic.Int64
}

// Failed counts publications that failed (each is retried at the next
// tick until every publisher took it).
func (c *Checkpointer) Failed() int64 { return c.failed.Load() }

// Sign signs msg with the collector's key (store.Store.SetSigner).
func (c *Checkpointer) Sign(msg []byte) []byte { return ed25519.Sign(c.Key, msg) }

// Run takes checkpoints until ctx ends, then a last one.
func (c *Checkpointer) Run(ctx context.Context) {
	every := c.Every
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := c.Take(sctx, store.CheckpointShutdown); err != nil {
				c.log().Error("checkpoint at shutdown", "err", err)
			}
			return
		case <-t.C:
			if _, err := c.Take(ctx, store.CheckpointInterval); err != nil && ctx.Err() == nil {
				c.log().Error("checkpoint", "err", err)
			}
		}
	}
}

func (c *Checkpointer) log() *slog.Logger {
	if c.Log == nil {
		return slog.Default()
	}
	return c.Log
}

// Take signs and stores the head as a checkpoint of kind if the chain
// moved since the last one, or at shutdown so that a clean stop is told
// from a crash, then publishes every stored checkpoint not yet published
// (a prune's base among them). It reports whether it signed one.
func (c *Checkpointer) Take(ctx context.Context, kind string) (bool, error) {
	if !c.loaded {
		stored, err := c.Store.Checkpoints(ctx, false)
		if err != nil {
			return false, err
		}
		for _, cp := range stored {
			c.last = max(c.last, cp.Seq)
		}
		c.loaded = true
	}
	seq, hash, err := c.Store.ChainHead(ctx)
	if err != nil {
		return false, err
	}
	took := false
	if seq > c.last || (kind == store.CheckpointShutdown && seq > 0) {
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		cp := store.Checkpoint{Seq: seq, Hash: hash, At: now().UTC().Truncate(time.Millisecond), Kind: kind}
		cp.Sig = c.Sign(cp.Message())
		if _, err := c.Store.AddCheckpoint(ctx, cp); err != nil {
			return false, err
		}
		c.last, took = seq, true
	}
	return took, c.publish(ctx)
}

func (c *Checkpointer) publish(ctx context.Context) error {
	pending, err := c.Store.Checkpoints(ctx, true)
	if err != nil {
		return err
	}
	var firstErr error
	for _, cp := range pending {
		ok := true
		for _, p := range c.Publishers {
			if err := p.Publish(ctx, cp); err != nil {
				c.failed.Add(1)
				ok = false
				if firstErr == nil {
					firstErr = fmt.Errorf("publishing to %s: %w", p.Name(), err)
				}
			}
		}
		if ok {
			if err := c.Store.MarkPublished(ctx, cp.N); err != nil {
				return err
			}
		}
	}
	return firstErr
}

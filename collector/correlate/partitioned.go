package correlate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/collector/partition"
	"github.com/vigilhq/vigil/event"
)

// The stream of correlation inputs: every collector publishes there the
// events it stores, and every collector reads it for the groups of the
// partitions it owns.
const (
	Stream  = "VIGIL_CORR"
	Subject = "vigil-corr.events"
)

// DefaultReplay is how far back a collector taking a partition reads the
// correlation inputs to rebuild its windows: the longest window the
// shipped rules use, with room.
const DefaultReplay = 24 * time.Hour

// PartitionedOptions configure a Partitioned.
type PartitionedOptions struct {
	Engine *Engine
	JS     jetstream.JetStream
	// ID, Partitions and TTL are the leases' (partition.Options).
	ID         string
	Partitions int
	TTL        time.Duration
	Replicas   int
	// Replay is how far back a partition's windows are rebuilt
	// (DefaultReplay); the stream keeps an hour more.
	Replay time.Duration
	// Store stores the alerts of the owned partitions; it is retried
	// until it succeeds or the collector stops.
	Store  func(ctx context.Context, alerts []event.Event) error
	Logger *slog.Logger
}

// Partitioned runs the correlation rules over the correlation stream for
// the groups of the partitions this collector holds a lease on. Each
// owned partition has its own engines (Keep: the groups partition.Of puts
// in it), so one is dropped or rebuilt without touching the others. A
// partition taken is rebuilt from the stream: inputs up to the progress
// its last owner saved count without firing, later ones fire.
type Partitioned struct {
	o      PartitionedOptions
	stream jetstream.Stream
	leases *partition.Leases

	mu    sync.Mutex
	parts map[int]*part
	// pos is the last input handled by the live reader: every owned
	// partition has seen everything up to it.
	pos uint64
	// Malformed counts inputs that could not be decoded.
	malformed atomic.Uint64
}

type part struct {
	*pair
	// progress is the last input whose alerts are stored (or belonged
	// to a previous owner).
	progress uint64
}

// NewPartitioned makes the correlation stream and the leases; Run runs
// them.
func NewPartitioned(ctx context.Context, o PartitionedOptions) (*Partitioned, error) {
	if o.Replay == 0 {
		o.Replay = DefaultReplay
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	c := &Partitioned{o: o, parts: map[int]*part{}}
	var err error
	c.stream, err = OpenStream(ctx, o.JS, o.Replicas, o.Replay)
	if err != nil {
		return nil, err
	}
	info, err := c.stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w", Stream, err)
	}
	c.pos = info.State.LastSeq
	c.leases, err = partition.Open(ctx, partition.Options{JS: o.JS, ID: o.ID, Partitions: o.Partitions, TTL: o.TTL,
		Replicas: o.Replicas, Logger: o.Logger, Acquire: c.acquire, Release: c.release})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// OpenStream makes the correlation stream, keeping inputs replay and an
// hour longer.
func OpenStream(ctx context.Context, js jetstream.JetStream, replicas int, replay time.Duration) (jetstream.Stream, error) {
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        Stream,
		Description: "events as the correlation rules read them, for the collector owning each group",
		Subjects:    []string{Subject},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      replay + time.Hour,
		Duplicates:  time.Hour, // an input routed again after a redelivery is kept once
		Replicas:    max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("creating stream %s: %w", Stream, err)
	}
	return s, nil
}

// Owned lists the partitions this collector owns.
func (c *Partitioned) Owned() []int { return c.leases.Owned() }

// Malformed counts correlation inputs skipped because they did not decode.
func (c *Partitioned) Malformed() uint64 { return c.malformed.Load() }

// Run holds leases and reads the stream until ctx ends, then gives the
// partitions back.
func (c *Partitioned) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.leases.Run(ctx)
	}()
	err := c.read(ctx)
	wg.Wait()
	return err
}

func (c *Partitioned) read(ctx context.Context) error {
	c.mu.Lock()
	start := c.pos + 1
	c.mu.Unlock()
	cons, err := c.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start})
	if err != nil {
		return fmt.Errorf("reading stream %s: %w", Stream, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("reading stream %s: %w", Stream, err)
	}
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			c.o.Logger.Warn("reading correlation inputs", "err", err)
			continue
		}
		meta, err := m.Metadata()
		if err != nil {
			c.o.Logger.Warn("correlation input without metadata skipped", "err", err)
			continue
		}
		c.mu.Lock()
		if seq := meta.Sequence.Stream; seq > c.pos {
			if !c.handle(ctx, seq, m.Data(), c.parts) {
				// Stopped before its alerts were stored: the progress
				// given back with the partitions stays below it.
				c.mu.Unlock()
				return nil
			}
			c.pos = seq
		}
		c.mu.Unlock()
	}
}

// handle runs one input through parts; alerts of inputs after a part's
// progress are stored and move its progress. It says false when ctx ended
// before the alerts were stored.
func (c *Partitioned) handle(ctx context.Context, seq uint64, data []byte, parts map[int]*part) bool {
	ev, err := event.Decode(data)
	if err != nil {
		c.malformed.Add(1)
		c.o.Logger.Warn("malformed correlation input skipped", "stream", Stream, "seq", seq, "err", err)
		return true
	}
	var alerts []event.Event
	var fired []int
	for p, pt := range parts {
		out := pt.process(ev)
		if len(out) == 0 || seq <= pt.progress {
			continue
		}
		alerts = append(alerts, out...)
		fired = append(fired, p)
	}
	if len(alerts) == 0 {
		return true
	}
	for {
		err := c.o.Store(ctx, alerts)
		if err == nil {
			break
		}
		c.o.Logger.Error("storing correlation alerts; retrying", "err", err, "alerts", len(alerts))
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
		}
	}
	for _, p := range fired {
		parts[p].progress = seq
		if err := c.leases.SaveProgress(ctx, p, seq); err != nil {
			c.o.Logger.Warn("saving correlation progress; a new owner may fire these alerts again", "partition", p, "err", err)
		}
	}
	return true
}

// acquire rebuilds partition p's windows from the inputs up to what the
// live reader has handled; the live reader waits meanwhile.
func (c *Partitioned) acquire(ctx context.Context, p int, progress uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.o.Partitions
	pt := &part{pair: c.o.Engine.newPair(func(rule string, key []byte) bool { return partition.Of(rule, key, n) == p }),
		progress: progress}
	replayed, err := c.replay(ctx, map[int]*part{p: pt})
	if err != nil {
		c.o.Engine.dropPair(pt.pair)
		return err
	}
	c.parts[p] = pt
	c.o.Logger.Info("correlation partition rebuilt", "partition", p, "inputs", replayed, "progress", progress, "upto", c.pos)
	return nil
}

// replay runs the inputs of the last Replay up to pos through parts.
func (c *Partitioned) replay(ctx context.Context, parts map[int]*part) (int, error) {
	if c.pos == 0 {
		return 0, nil
	}
	since := time.Now().Add(-c.o.Replay)
	cons, err := c.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &since})
	if err != nil {
		return 0, fmt.Errorf("replaying stream %s: %w", Stream, err)
	}
	n := 0
	for {
		// What is there now: everything up to pos is stored already.
		batch, err := cons.FetchNoWait(500)
		if err != nil {
			return n, fmt.Errorf("replaying stream %s: %w", Stream, err)
		}
		got, done := 0, false
		for m := range batch.Messages() {
			got++
			meta, err := m.Metadata()
			if err != nil {
				continue
			}
			seq := meta.Sequence.Stream
			if seq > c.pos {
				done = true
				continue
			}
			if !c.handle(ctx, seq, m.Data(), parts) {
				return n, fmt.Errorf("replaying stream %s: stopped before the alerts of input %d were stored: %w", Stream, seq, context.Cause(ctx))
			}
			n++
			if seq == c.pos {
				done = true
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoHeartbeat) {
			return n, fmt.Errorf("replaying stream %s: %w", Stream, err)
		}
		if done {
			return n, nil
		}
		if got == 0 {
			info, err := cons.Info(ctx)
			if err != nil {
				return n, fmt.Errorf("replaying stream %s: %w", Stream, err)
			}
			if info.NumPending == 0 {
				return n, nil
			}
		}
	}
}

// release drops partition p; given back, its progress is saved as all the
// live reader has handled.
func (c *Partitioned) release(p int, lost bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pt := c.parts[p]
	if pt == nil {
		return
	}
	delete(c.parts, p)
	c.o.Engine.dropPair(pt.pair)
	if lost {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.leases.SaveProgress(ctx, p, max(pt.progress, c.pos)); err != nil {
		c.o.Logger.Warn("saving correlation progress; the next owner may fire these alerts again", "partition", p, "err", err)
	}
}

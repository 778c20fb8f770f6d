package partition

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The buckets: leases expire with their TTL, progress is kept.
const (
	LeaseBucket    = "vigil_partitions"
	ProgressBucket = "vigil_partition_progress"
)

// DefaultTTL is how long a lease outlives its owner's last renewal.
const DefaultTTL = 10 * time.Second

var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Options configure Leases.
type Options struct {
	JS jetstream.JetStream
	// ID names this collector among the others; a collector restarted
	// with the same ID takes back the leases it still holds.
	ID string
	// Partitions is how many partitions there are; every collector must
	// use the same number.
	Partitions int
	// TTL is how long a lease lasts unrenewed (DefaultTTL): a dead
	// collector's partitions move after this long.
	TTL      time.Duration
	Replicas int
	Logger   *slog.Logger
	// Acquire is called when this collector wins the lease of p, with the
	// progress its last owner saved (0: none); p is owned once it returns
	// nil, and an error gives the lease back.
	Acquire func(ctx context.Context, p int, progress uint64) error
	// Release is called when p stops being owned: given back (lost false),
	// when p still counts as owned during the call so its progress may be
	// saved, or found taken or expired (lost true), when it may not.
	Release func(p int, lost bool)
}

// Leases holds this collector's partitions.
type Leases struct {
	o                Options
	leases, progress jetstream.KeyValue

	mu    sync.Mutex
	owned map[int]*lease
}

type lease struct {
	rev     uint64
	renewed time.Time
}

// Open makes the buckets and checks that the collectors agree on the
// number of partitions.
func Open(ctx context.Context, o Options) (*Leases, error) {
	if !validID.MatchString(o.ID) {
		return nil, fmt.Errorf("collector id %q: use 1 to 64 letters, digits, '-' or '_'", o.ID)
	}
	if o.Partitions < 1 {
		return nil, fmt.Errorf("partitions %d: want at least 1", o.Partitions)
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	l := &Leases{o: o, owned: map[int]*lease{}}
	var err error
	l.leases, err = o.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: LeaseBucket,
		Description: "which collector owns each correlation partition", TTL: o.TTL, Replicas: o.Replicas,
		Storage: jetstream.FileStorage})
	if err != nil {
		return nil, fmt.Errorf("making the partition lease bucket %s: %w", LeaseBucket, err)
	}
	l.progress, err = o.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: ProgressBucket,
		Description: "how far each correlation partition's alerts are handled", Replicas: o.Replicas,
		Storage: jetstream.FileStorage})
	if err != nil {
		return nil, fmt.Errorf("making the partition progress bucket %s: %w", ProgressBucket, err)
	}
	want := strconv.Itoa(o.Partitions)
	if _, err := l.progress.Create(ctx, "partitions", []byte(want)); errors.Is(err, jetstream.ErrKeyExists) {
		e, err := l.progress.Get(ctx, "partitions")
		if err != nil {
			return nil, fmt.Errorf("reading the collectors' partition count: %w", err)
		}
		if got := string(e.Value()); got != want {
			return nil, fmt.Errorf("the collectors run with %s partitions and this one with %s: every collector needs the same --partitions (bucket %s, key partitions)",
				got, want, ProgressBucket)
		}
	} else if err != nil {
		return nil, fmt.Errorf("recording the collectors' partition count: %w", err)
	}
	return l, nil
}

func leaseKey(p int) string      { return "lease." + strconv.Itoa(p) }
func memberKey(id string) string { return "member." + id }
func progressKey(p int) string   { return "p." + strconv.Itoa(p) }

// Owned lists the partitions this collector owns.
func (l *Leases) Owned() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	ps := make([]int, 0, len(l.owned))
	for p := range l.owned {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// Run renews and rebalances the leases every quarter TTL until ctx ends,
// then gives them all back so that the others take them at once.
func (l *Leases) Run(ctx context.Context) {
	t := time.NewTicker(l.o.TTL / 4)
	defer t.Stop()
	for {
		if err := l.Step(ctx); err != nil && ctx.Err() == nil {
			l.o.Logger.Warn("renewing correlation partition leases", "err", err)
		}
		select {
		case <-ctx.Done():
			gctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			l.ReleaseAll(gctx)
			cancel()
			return
		case <-t.C:
		}
	}
}

// Step renews this collector's membership and leases, gives back what is
// above its share and takes free partitions up to it.
func (l *Leases) Step(ctx context.Context) error {
	if _, err := l.leases.Put(ctx, memberKey(l.o.ID), []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		return fmt.Errorf("renewing membership of %s: %w", l.o.ID, err)
	}
	members, err := l.members(ctx)
	if err != nil {
		return err
	}
	l.renew(ctx)
	share := Share(l.o.Partitions, members)
	owned := l.Owned()
	for i := len(owned) - 1; i >= share; i-- {
		l.give(ctx, owned[i])
	}
	if len(owned) >= share {
		return nil
	}
	return l.take(ctx, share)
}

func (l *Leases) members(ctx context.Context) (int, error) {
	keys, err := l.leases.Keys(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return 0, fmt.Errorf("listing live collectors: %w", err)
	}
	n := 0
	for _, k := range keys {
		if strings.HasPrefix(k, "member.") {
			n++
		}
	}
	return max(n, 1), nil
}

// renew extends every owned lease; one found taken or gone, or not
// renewed for half its TTL, is lost.
func (l *Leases) renew(ctx context.Context) {
	for _, p := range l.Owned() {
		l.mu.Lock()
		ls := l.owned[p]
		l.mu.Unlock()
		rev, err := l.leases.Update(ctx, leaseKey(p), []byte(l.o.ID), ls.rev)
		if err == nil {
			l.mu.Lock()
			ls.rev, ls.renewed = rev, time.Now()
			l.mu.Unlock()
			continue
		}
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyNotFound) || time.Since(ls.renewed) > l.o.TTL/2 {
			l.o.Logger.Warn("correlation partition lease lost", "partition", p, "err", err)
			l.drop(p, true)
		}
	}
}

func (l *Leases) drop(p int, lost bool) {
	l.mu.Lock()
	_, ok := l.owned[p]
	if lost {
		delete(l.owned, p)
	}
	l.mu.Unlock()
	if ok && l.o.Release != nil {
		l.o.Release(p, lost)
	}
	if !lost {
		l.mu.Lock()
		delete(l.owned, p)
		l.mu.Unlock()
	}
}

// give hands p back: its state is released first, then its lease, so the
// next owner starts from the progress saved.
func (l *Leases) give(ctx context.Context, p int) {
	l.mu.Lock()
	ls := l.owned[p]
	l.mu.Unlock()
	if ls == nil {
		return
	}
	l.drop(p, false)
	if err := l.leases.Delete(ctx, leaseKey(p), jetstream.LastRevision(ls.rev)); err != nil {
		l.o.Logger.Warn("giving back a correlation partition; it moves when its lease expires", "partition", p, "err", err)
	}
	l.o.Logger.Info("correlation partition given back", "partition", p)
}

// ReleaseAll gives back every owned partition.
func (l *Leases) ReleaseAll(ctx context.Context) {
	for _, p := range l.Owned() {
		l.give(ctx, p)
	}
	_ = l.leases.Delete(ctx, memberKey(l.o.ID))
}

// take wins free leases until this collector owns share partitions,
// starting at a place of its own so that collectors starting together
// contend little.
func (l *Leases) take(ctx context.Context, share int) error {
	h := fnv.New32a()
	h.Write([]byte(l.o.ID))
	start := int(h.Sum32() % uint32(l.o.Partitions))
	for i := range l.o.Partitions {
		if len(l.Owned()) >= share {
			return nil
		}
		p := (start + i) % l.o.Partitions
		l.mu.Lock()
		_, mine := l.owned[p]
		l.mu.Unlock()
		if mine {
			continue
		}
		rev, err := l.claim(ctx, p)
		if err != nil {
			return err
		}
		if rev == 0 {
			continue
		}
		// Owned while it is acquired, so that the caller may save progress.
		l.mu.Lock()
		l.owned[p] = &lease{rev: rev, renewed: time.Now()}
		l.mu.Unlock()
		progress, err := l.Progress(ctx, p)
		if err == nil && l.o.Acquire != nil {
			err = l.o.Acquire(ctx, p, progress)
		}
		if err != nil {
			l.mu.Lock()
			delete(l.owned, p)
			l.mu.Unlock()
			_ = l.leases.Delete(ctx, leaseKey(p), jetstream.LastRevision(rev))
			return fmt.Errorf("taking correlation partition %d: %w", p, err)
		}
		l.o.Logger.Info("correlation partition taken", "partition", p, "progress", progress)
		// Rebuilding a partition takes time the others' leases must not
		// run out in.
		l.renew(ctx)
	}
	return nil
}

// claim wins p's lease if it is free or still held under this collector's
// id (by this collector before a restart); 0 when another holds it.
func (l *Leases) claim(ctx context.Context, p int) (uint64, error) {
	e, err := l.leases.Get(ctx, leaseKey(p))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		rev, err := l.leases.Create(ctx, leaseKey(p), []byte(l.o.ID))
		if errors.Is(err, jetstream.ErrKeyExists) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("claiming correlation partition %d: %w", p, err)
		}
		return rev, nil
	case err != nil:
		return 0, fmt.Errorf("reading the lease of correlation partition %d: %w", p, err)
	case string(e.Value()) == l.o.ID:
		rev, err := l.leases.Update(ctx, leaseKey(p), []byte(l.o.ID), e.Revision())
		if err != nil {
			return 0, nil
		}
		return rev, nil
	}
	return 0, nil
}

// Progress is the progress saved for p (0: none).
func (l *Leases) Progress(ctx context.Context, p int) (uint64, error) {
	e, err := l.progress.Get(ctx, progressKey(p))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the progress of correlation partition %d: %w", p, err)
	}
	v, err := strconv.ParseUint(string(e.Value()), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading the progress of correlation partition %d: bucket %s key %s holds %q, not a number: %w",
			p, ProgressBucket, progressKey(p), e.Value(), err)
	}
	return v, nil
}

// SaveProgress records that p's alerts are handled up to seq, while p is
// owned.
func (l *Leases) SaveProgress(ctx context.Context, p int, seq uint64) error {
	l.mu.Lock()
	_, ok := l.owned[p]
	l.mu.Unlock()
	if !ok {
		return nil
	}
	if _, err := l.progress.Put(ctx, progressKey(p), []byte(strconv.FormatUint(seq, 10))); err != nil {
		return fmt.Errorf("saving the progress of correlation partition %d: %w", p, err)
	}
	return nil
}

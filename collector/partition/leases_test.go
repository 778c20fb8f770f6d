package partition

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/internal/testnats"
	"github.com/vigilhq/vigil/internal/testproc"
)

func jetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	s := testnats.RunJetStream(t)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// member is one collector's leases with what its callbacks saw.
type member struct {
	*Leases
	mu       sync.Mutex
	progress map[int]uint64 // partition -> progress given when taken
	released map[int]bool   // partition -> lost
}

func join(t *testing.T, js jetstream.JetStream, id string, n int, ttl time.Duration) *member {
	t.Helper()
	m := &member{progress: map[int]uint64{}, released: map[int]bool{}}
	var err error
	m.Leases, err = Open(t.Context(), Options{JS: js, ID: id, Partitions: n, TTL: ttl,
		Acquire: func(_ context.Context, p int, progress uint64) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.progress[p] = progress
			return nil
		},
		Release: func(p int, lost bool) {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.released[p] = lost
		}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// settle steps every member until each owns its share and no partition has
// two owners or none.
func settle(t *testing.T, n int, ms ...*member) {
	t.Helper()
	testproc.CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		owner := map[int]string{}
		for _, m := range ms {
			if err := m.Step(t.Context()); err != nil {
				return err
			}
		}
		for _, m := range ms {
			owned := m.Owned()
			if len(owned) != Share(n, len(ms)) && len(owned) != n/len(ms) {
				return fmt.Errorf("%s owns %v, want an even share of %d among %d", m.o.ID, owned, n, len(ms))
			}
			for _, p := range owned {
				if o, ok := owner[p]; ok {
					return fmt.Errorf("partition %d is owned by %s and %s", p, o, m.o.ID)
				}
				owner[p] = m.o.ID
			}
		}
		if len(owner) != n {
			return fmt.Errorf("%d of %d partitions owned: %v", len(owner), n, owner)
		}
		return nil
	})
}

func TestOneCollectorOwnsEveryPartition(t *testing.T) {
	js := jetStream(t)
	a := join(t, js, "a", 8, time.Second)
	if err := a.Step(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := a.Owned(); len(got) != 8 {
		t.Fatalf("a lone collector owns %v, want all 8 partitions", got)
	}
}

// A collector joining takes half the partitions from the one running,
// which gives them back (not lost) before they move.
func TestJoiningCollectorTakesItsShare(t *testing.T) {
	js := jetStream(t)
	a := join(t, js, "a", 8, 2*time.Second)
	settle(t, 8, a)
	b := join(t, js, "b", 8, 2*time.Second)
	settle(t, 8, a, b)
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.released) != 4 {
		t.Errorf("a released %v, want the 4 partitions b took", a.released)
	}
	for p, lost := range a.released {
		if lost {
			t.Errorf("partition %d counted lost by a, want given back", p)
		}
	}
}

// When a collector stops renewing (killed), its leases expire and the
// others take its partitions with the progress it saved.
func TestDeadCollectorsPartitionsMove(t *testing.T) {
	js := jetStream(t)
	const ttl = time.Second
	a, b := join(t, js, "a", 6, ttl), join(t, js, "b", 6, ttl)
	settle(t, 6, a, b)
	aOwned := a.Owned()
	for _, p := range aOwned {
		if err := a.SaveProgress(t.Context(), p, uint64(100+p)); err != nil {
			t.Fatal(err)
		}
	}
	// a is dead from here: nothing of it runs, its leases are not given back.
	testproc.CheckFor(t, 10*ttl, 100*time.Millisecond, func() error {
		if err := b.Step(t.Context()); err != nil {
			return err
		}
		if got := b.Owned(); len(got) != 6 {
			return fmt.Errorf("b owns %v, want all 6 once a's leases expired", got)
		}
		return nil
	})
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range aOwned {
		if b.progress[p] != uint64(100+p) {
			t.Errorf("b took partition %d with progress %d, want the %d a saved", p, b.progress[p], 100+p)
		}
	}
}

// A collector that renews a lease another has since won (it stalled past
// the TTL) counts it lost and stops using it, and may not save progress.
func TestStalledCollectorLosesItsLease(t *testing.T) {
	js := jetStream(t)
	const ttl = time.Second
	a := join(t, js, "a", 2, ttl)
	settle(t, 2, a)
	b := join(t, js, "b", 2, ttl)
	testproc.CheckFor(t, 10*ttl, 100*time.Millisecond, func() error {
		if err := b.Step(t.Context()); err != nil {
			return err
		}
		if got := b.Owned(); len(got) != 2 {
			return fmt.Errorf("b owns %v, want both once a's leases expired", got)
		}
		return nil
	})
	if err := a.Step(t.Context()); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	lost := a.released
	a.mu.Unlock()
	if len(lost) != 2 || !lost[0] || !lost[1] {
		t.Errorf("a released %v, want both partitions lost", lost)
	}
	settle(t, 2, a, b)
}

// A collector restarted under its id takes back the leases it held without
// waiting for them to expire.
func TestRestartedCollectorTakesBackItsLeases(t *testing.T) {
	js := jetStream(t)
	a := join(t, js, "a", 4, time.Minute)
	settle(t, 4, a)
	again := join(t, js, "a", 4, time.Minute)
	if err := again.Step(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := again.Owned(); !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Errorf("the restarted collector owns %v, want its 4 partitions back at once", got)
	}
}

func TestPartitionCountMustAgree(t *testing.T) {
	js := jetStream(t)
	join(t, js, "a", 4, time.Second)
	_, err := Open(t.Context(), Options{JS: js, ID: "b", Partitions: 8})
	if err == nil || !strings.Contains(err.Error(), "run with 4 partitions and this one with 8") {
		t.Errorf("opening with another partition count: %v", err)
	}
}

func TestCollectorIDMustBeAKey(t *testing.T) {
	js := jetStream(t)
	for _, id := range []string{"", "a.b", "a b", "a*", strings.Repeat("x", 65)} {
		if _, err := Open(t.Context(), Options{JS: js, ID: id, Partitions: 4}); err == nil || !strings.Contains(err.Error(), "collector id") {
			t.Errorf("id %q: %v", id, err)
		}
	}
}

func TestOfSpreadsGroups(t *testing.T) {
	seen := map[int]int{}
	for i := range 1000 {
		p := Of("reads", fmt.Appendf(nil, "person-%d", i), 8)
		if p < 0 || p >= 8 {
			t.Fatalf("partition %d out of 0..7", p)
		}
		seen[p]++
	}
	for p := range 8 {
		if seen[p] < 60 {
			t.Errorf("partition %d got %d of 1000 groups: %v", p, seen[p], seen)
		}
	}
	// Fixed across versions and collectors: the partitions of a running
	// deployment must not move on an upgrade.
	if got := Of("reads", []byte("alice"), 8); got != ofAlice {
		t.Errorf("Of(reads, alice, 8) = %d, want %d", got, ofAlice)
	}
	if Of("reads", []byte("alice"), 1) != 0 {
		t.Error("one partition is not 0")
	}
}

// ofAlice is Of("reads", "alice", 8) as released.
const ofAlice = 6

func TestShare(t *testing.T) {
	for _, c := range []struct{ n, m, want int }{{16, 1, 16}, {16, 2, 8}, {16, 3, 6}, {4, 8, 1}, {4, 0, 4}} {
		if got := Share(c.n, c.m); got != c.want {
			t.Errorf("Share(%d, %d) = %d, want %d", c.n, c.m, got, c.want)
		}
	}
}

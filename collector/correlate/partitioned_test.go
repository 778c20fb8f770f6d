package correlate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testnats"
	"github.com/vigilhq/vigil/internal/testproc"
)

const writes = `
threshold "writes" {
  scope    = "global"
  severity = "high"
  when     = kind == "file.write"
  by       = [person]
  window   = "1h"
  limit    = 5
  summary  = "${person} wrote ${value} files"
}
`

// alertLog is what the collectors' Store funcs stored, by alert id.
type alertLog struct {
	mu  sync.Mutex
	ids map[string]int
}

func (l *alertLog) store(_ context.Context, alerts []event.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, al := range alerts {
		l.ids[al.ID]++
	}
	return nil
}

func (l *alertLog) count() (n, twice int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.ids {
		n++
		if c > 1 {
			twice++
		}
	}
	return n, twice
}

// partitionedSetup starts a JetStream server and a rules directory
// holding the writes rule, for collectors to share.
func partitionedSetup(t *testing.T) (jetstream.JetStream, string) {
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
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "w.hcl"), []byte(writes), 0o644); err != nil {
		t.Fatal(err)
	}
	return js, dir
}

// A collector handing its partitions to another (stopping) loses no
// window: the taker rebuilds them from the stream, and fires neither what
// the first fired nor less than one engine seeing every input would.
func TestPartitionHandoverFiresOnce(t *testing.T) {
	js, dir := partitionedSetup(t)
	log := &alertLog{ids: map[string]int{}}
	start := func(ctx context.Context, id string) *Partitioned {
		eng, err := Load(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewPartitioned(ctx, PartitionedOptions{Engine: eng, JS: js, ID: id, Partitions: 4, TTL: time.Second, Store: log.store})
		if err != nil {
			t.Fatal(err)
		}
		go p.Run(ctx)
		return p
	}
	actx, stopA := context.WithCancel(t.Context())
	a := start(actx, "a")
	testproc.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if got := a.Owned(); len(got) != 4 {
			return fmt.Errorf("a owns %v", got)
		}
		return nil
	})
	r := &Router{JS: js}
	persons := []string{"ana", "ben", "cho", "dev", "eli", "fay", "gus", "hal"}
	seq := uint64(0)
	send := func(n int) {
		var evs []*event.Event
		for range n {
			for _, p := range persons {
				seq++
				evs = append(evs, &event.Event{ID: event.MakeID("b1", seq), Time: time.Now().UTC(), Kind: event.KindFileWrite,
					Site: "leeds", Host: "ws-1", AgentID: "ag-1", BootID: "b1", Seq: seq,
					Process: &event.Process{PID: 1, User: p, LoginUser: p, LoginUID: 1000}, File: &event.File{Path: "/x"}})
			}
		}
		if err := r.Route(t.Context(), evs); err != nil {
			t.Fatal(err)
		}
	}
	send(7) // each person fires on the 6th write; the 7th starts the next window
	testproc.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n, _ := log.count(); n != len(persons) {
			return fmt.Errorf("%d alerts, want %d", n, len(persons))
		}
		return nil
	})
	b := start(t.Context(), "b")
	stopA()
	testproc.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if got := b.Owned(); len(got) != 4 {
			return fmt.Errorf("b owns %v", got)
		}
		return nil
	})
	send(5) // 1 + 5: each person fires again only if b rebuilt the window a started
	testproc.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		n, twice := log.count()
		if n != 2*len(persons) || twice != 0 {
			return fmt.Errorf("%d alerts (%d stored twice), want %d once each", n, twice, 2*len(persons))
		}
		return nil
	})
}

// A collector stopping while its store does not answer (the alerts may
// or may not have been written) gives its partitions back with the
// progress below those alerts: the taker fires them, under the same ids,
// so a store that did write them keeps each once.
func TestAlertsNotConfirmedStoredFireAgainUnderTheirIDs(t *testing.T) {
	js, dir := partitionedSetup(t)
	start := func(ctx context.Context, id string, store func(context.Context, []event.Event) error) (*Partitioned, chan error) {
		eng, err := Load(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewPartitioned(ctx, PartitionedOptions{Engine: eng, JS: js, ID: id, Partitions: 4, TTL: time.Second, Store: store})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		return p, done
	}
	// a's store takes the alerts and its answer never comes back.
	written := &alertLog{ids: map[string]int{}}
	actx, stopA := context.WithCancel(t.Context())
	a, aDone := start(actx, "a", func(ctx context.Context, alerts []event.Event) error {
		written.store(ctx, alerts)
		return errors.New("the store's answer was lost")
	})
	testproc.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if got := a.Owned(); len(got) != 4 {
			return fmt.Errorf("a owns %v", got)
		}
		return nil
	})
	var evs []*event.Event
	for i := range 6 { // the 6th write of a person fires
		evs = append(evs, &event.Event{ID: event.MakeID("b1", uint64(i+1)), Time: time.Now().UTC(), Kind: event.KindFileWrite,
			Site: "leeds", Host: "ws-1", AgentID: "ag-1", BootID: "b1", Seq: uint64(i + 1),
			Process: &event.Process{PID: 1, User: "ana", LoginUser: "ana", LoginUID: 1000}, File: &event.File{Path: "/x"}})
	}
	if err := (&Router{JS: js}).Route(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	testproc.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n, _ := written.count(); n != 1 {
			return fmt.Errorf("a tried to store %d alerts, want 1", n)
		}
		return nil
	})
	stopA()
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	stored := &alertLog{ids: map[string]int{}}
	b, _ := start(t.Context(), "b", stored.store)
	testproc.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if got := b.Owned(); len(got) != 4 {
			return fmt.Errorf("b owns %v", got)
		}
		if n, _ := stored.count(); n != 1 {
			return fmt.Errorf("b stored %d alerts, want the 1 a could not confirm", n)
		}
		return nil
	})
	for id := range stored.ids {
		if written.ids[id] == 0 {
			t.Errorf("b fired %s, a fired %v: the same alert under another id is kept twice", id, written.ids)
		}
	}
}

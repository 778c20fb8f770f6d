package checkpoint

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

type failing struct{ err error }

func (f *failing) Name() string { return "failing" }
func (f *failing) Publish(context.Context, store.Checkpoint) error {
	return f.err
}

func putEvent(t *testing.T, st *store.Store, seq uint64) {
	t.Helper()
	ev := &event.Event{ID: event.MakeID("b1", seq), Time: t0, Kind: event.KindFileWrite, Site: "leeds", Host: "ws1",
		AgentID: "ag-1", BootID: "b1", Seq: seq, File: &event.File{Path: "/tmp/x.csv"}}
	body, _ := json.Marshal(ev)
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.PutEvent(ev, body, t0); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// A checkpoint is signed when the chain moved, not otherwise; one a
// publisher refused is counted and sent again at the next take; the stop
// signs a last one; the store then verifies against what was published.
func TestCheckpointer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	out := File{Path: filepath.Join(dir, "cp.jsonl")}
	flaky := &failing{err: errors.New("remote down")}
	c := &Checkpointer{Store: st, Key: key, Publishers: []Publisher{out, flaky}, Every: 20 * time.Millisecond}

	if took, err := c.Take(ctx, store.CheckpointInterval); took || err != nil {
		t.Fatalf("empty chain: took %v, %v", took, err)
	}
	putEvent(t, st, 1)
	if took, err := c.Take(ctx, store.CheckpointInterval); !took || err == nil || c.Failed() != 1 {
		t.Fatalf("after a write with a failing publisher: took %v, %v, %d failed", took, err, c.Failed())
	}
	flaky.err = nil
	if took, err := c.Take(ctx, store.CheckpointInterval); took || err != nil {
		t.Fatalf("no write since: took %v, %v", took, err)
	}
	if pending, _ := st.Checkpoints(ctx, true); len(pending) != 0 {
		t.Fatalf("%d checkpoints still unpublished after the publisher recovered", len(pending))
	}

	putEvent(t, st, 2)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.Run(rctx); close(done) }()
	cancel()
	<-done
	got, err := ReadFile(out.Path)
	if err != nil {
		t.Fatal(err)
	}
	last := got[len(got)-1]
	head, _, _ := st.ChainHead(ctx)
	if last.Kind != store.CheckpointShutdown || last.Seq != head {
		t.Fatalf("last published %+v, want a shutdown checkpoint at the head %d", last, head)
	}
	r, err := store.Verify(ctx, path, got, pub)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Checkpoints < 2 {
		t.Fatalf("verify against the published checkpoints: %d checked, %v", r.Checkpoints, r.Findings)
	}
}

package checkpoint

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/store"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func signed(t *testing.T, key ed25519.PrivateKey, seq int64) store.Checkpoint {
	t.Helper()
	h := make([]byte, 32)
	h[0] = byte(seq)
	c := store.Checkpoint{Seq: seq, Hash: h, At: t0.Add(time.Duration(seq) * time.Minute), Kind: store.CheckpointInterval}
	c.Sig = ed25519.Sign(key, c.Message())
	return c
}

// startBus runs the collector's embedded NATS server on a free port.
func startBus(t *testing.T) *bus.Bus {
	t.Helper()
	b, err := bus.Start(context.Background(), bus.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:-1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// A checkpoint in the stream cannot be deleted or purged through NATS, by
// the collector's own connection, nor can the stream be reconfigured to
// allow it; a repeat publication is dropped.
func TestStreamKeepsCheckpoints(t *testing.T) {
	ctx := context.Background()
	b := startBus(t)
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	js, _, err := NewJetStream(ctx, b.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	cp := signed(t, key, 7)
	for range 2 {
		if err := js.Publish(ctx, cp); err != nil {
			t.Fatal(err)
		}
	}
	s, err := b.JS.Stream(ctx, Stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMsg(ctx, 1); err == nil {
		t.Error("deleting a checkpoint from the stream succeeded")
	}
	if err := s.SecureDeleteMsg(ctx, 1); err == nil {
		t.Error("erasing a checkpoint from the stream succeeded")
	}
	if err := s.Purge(ctx); err == nil {
		t.Error("purging the checkpoint stream succeeded")
	}
	cfg := s.CachedInfo().Config
	cfg.DenyDelete, cfg.DenyPurge = false, false
	if _, err := b.JS.UpdateStream(ctx, cfg); err == nil {
		t.Error("reconfiguring the checkpoint stream to allow deletes succeeded")
	}
	got, err := ReadStream(ctx, b.JS)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Seq != 7 || got[0].Verify(pub) != nil {
		t.Fatalf("stream holds %+v, want the one signed checkpoint", got)
	}
	// The limit docs/deploy.md states: a client with the collector's
	// JetStream API access can delete the whole stream; the collector then
	// says so when it makes it again.
	if err := b.JS.DeleteStream(ctx, Stream); err != nil {
		t.Fatalf("deleting the whole stream: %v; update docs/deploy.md if NATS now refuses it", err)
	}
	if _, created, err := NewJetStream(ctx, b.JS, 1); err != nil || !created {
		t.Fatalf("making the stream again after it was deleted: created %v, %v; want it told", created, err)
	}
}

// The file publisher appends a line per checkpoint that ReadFile reads
// back with its signature intact; a bad line is named.
func TestFileRoundTrip(t *testing.T) {
	ctx := context.Background()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	path := filepath.Join(t.TempDir(), "checkpoints.jsonl")
	f := File{Path: path}
	for _, seq := range []int64{3, 9} {
		if err := f.Publish(ctx, signed(t, key, seq)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Seq != 9 || got[0].Verify(pub) != nil || got[1].Verify(pub) != nil {
		t.Fatalf("read %+v", got)
	}
	if err := os.WriteFile(path, []byte("{\"seq\":1,\"hash\":\"zz\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), path+":1") {
		t.Fatalf("a bad line: %v", err)
	}
}

// The command publisher hands the line to a command; a failing command is
// an error with what it said.
func TestCommandPublisher(t *testing.T) {
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	path := filepath.Join(t.TempDir(), "out.jsonl")
	if err := (Command{Cmd: "cat >> " + path}).Publish(ctx, signed(t, key, 4)); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadFile(path); err != nil || len(got) != 1 || got[0].Seq != 4 {
		t.Fatalf("command wrote %+v, %v", got, err)
	}
	err := (Command{Cmd: "echo remote refused >&2; exit 3"}).Publish(ctx, signed(t, key, 5))
	if err == nil || !strings.Contains(err.Error(), "remote refused") {
		t.Fatalf("failing command: %v", err)
	}
}

package bundles

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/internal/testnats"
	"github.com/vigilhq/vigil/rules/bundle"
)

// The bucket serves each site's newest bundle and never goes back to an
// older one, even when the data directory holds an older file again (a
// restored backup): the error says to publish again.
func TestServeNeverGoesBack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := testnats.RunJetStream(t)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	data := t.TempDir()
	set := testSet(t)
	if _, err := Publish(data, "leeds", set, time.Now()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(data, Dir, "site-leeds.bundle")
	first, _ := os.ReadFile(path)
	s, err := Open(ctx, js, data, 1, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(data, bundle.AllSites, set, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(data, "leeds", set, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Current("leeds") != 3 || s.Current("york") != 2 {
		t.Fatalf("current leeds %d york %d, want 3 and 2", s.Current("leeds"), s.Current("york"))
	}
	if err := os.WriteFile(path, first, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err == nil || !strings.Contains(err.Error(), "older than the 3 served") {
		t.Fatalf("an older file: %v", err)
	}
	kv, _ := js.KeyValue(ctx, bundle.Bucket)
	e, err := kv.Get(ctx, bundle.Key("leeds"))
	if err != nil {
		t.Fatal(err)
	}
	if en, _ := parse(e.Value()); en == nil || en.Version != 3 || s.Current("leeds") != 3 {
		t.Fatalf("served %+v, current %d; want version 3 kept", en, s.Current("leeds"))
	}
}

// One unreadable bundle file is reported and does not stop the other
// sites' bundles from being served.
func TestServeDespiteABrokenFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := testnats.RunJetStream(t)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	data := t.TempDir()
	if _, err := Publish(data, "leeds", testSet(t), time.Now()); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(data, Dir, "site-york.bundle")
	if err := os.WriteFile(broken, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, js, data, 1, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if s == nil || err == nil || !strings.Contains(err.Error(), broken) {
		t.Fatalf("Open beside a broken file: %v", err)
	}
	if s.Current("leeds") != 1 {
		t.Fatalf("leeds's bundle is not served: current %d", s.Current("leeds"))
	}
}

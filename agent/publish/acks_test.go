package publish

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testproc"
)

func TestRefusedPublishBehindAckedOnesIsNoticed(t *testing.T) {
	js, st, url := runServer(t, testproc.FreePort(t), "vigil.>")
	cfg := streamConfig("vigil.>")
	cfg.MaxMsgSize = 128 << 10
	if _, err := js.UpdateStream(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	// No linger: the sender goes straight to waiting for acks.
	p := newPublisher(t, url, t.TempDir(), func(c *Config) { c.Linger = "0s" })
	defer p.Close()
	f := &fakeAgent{pub: p}
	emitN(f, 10)
	// The newest in the window is refused while the ones before it are
	// acknowledged: the sender hears of it without waiting for a timeout.
	// The big event does not fit in a message with the 10 before it, so it
	// goes in a message of its own.
	f.Emit(&event.Event{Kind: event.KindFileWrite, File: &event.File{Path: "/tmp/" + strings.Repeat("x", event.MaxWireSize-1024), Bytes: 1}})
	start := time.Now()
	testproc.CheckFor(t, 5*time.Second, pollEvery, func() error {
		if p.Stats().Retries > 0 {
			return nil
		}
		return fmt.Errorf("waiting for the refusal noticed: %+v", p.Stats())
	})
	if d := time.Since(start); d >= 2*time.Second {
		t.Fatalf("refusal noticed after %s, only when the ack timeout came", d)
	}
	if d := p.Stats().Depth; d != 1 {
		t.Fatalf("spool depth %d, want the refused event only", d)
	}
	cfg.MaxMsgSize = 0
	if _, err := js.UpdateStream(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	waitDrained(t, p, 10*time.Second)
	checkInOrder(t, streamSeqs(t, st, ""), 11)
}

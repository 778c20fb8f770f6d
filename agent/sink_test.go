package agent_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/event"
)

// syncBuffer is a bytes.Buffer safe to read while the sink writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A line waits in the buffer until the reader drains (or FlushEvery), and
// Close writes what is left.
func TestJSONSinkFlushesWhenDrained(t *testing.T) {
	var out syncBuffer
	s := agent.NewJSONSink(&out)
	ev := &event.Event{ID: event.MakeID("b1", 1), Time: time.Unix(1, 0).UTC(), Kind: event.KindProcessExec}
	if err := s.Publish(ev); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "" {
		t.Fatalf("written before Drained: %q", got)
	}
	s.Drained()
	if got := out.String(); !strings.Contains(got, `"id":"b1-1"`) || !strings.HasSuffix(got, "\n") {
		t.Fatalf("after Drained: %q", got)
	}
	ev.ID = event.MakeID("b1", 2)
	if err := s.Publish(ev); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); strings.Count(got, "\n") != 2 || !strings.Contains(got, `"id":"b1-2"`) {
		t.Fatalf("after Close: %q", got)
	}
}

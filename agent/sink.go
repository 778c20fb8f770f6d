package agent

import (
	"bufio"
	"io"
	"sync"
	"time"

	"github.com/vigilhq/vigil/event"
)

// JSONSink writes one JSON object per line. Output is buffered and flushed
// when the agent's reader finds the ring empty (Drained), at the latest
// every FlushEvery, and on Close, so a busy agent does not pay a write(2)
// per event nor a wakeup of its own per flush.
type JSONSink struct {
	mu   sync.Mutex
	w    *bufio.Writer
	buf  []byte
	stop chan struct{}
	done chan struct{}
}

// FlushEvery is how long a line can wait in the buffer when nothing calls
// Drained (events emitted between the reader's wakeups wait for the next).
const FlushEvery = time.Second

// NewJSONSink writes to w until Close.
func NewJSONSink(w io.Writer) *JSONSink {
	bw := bufio.NewWriterSize(w, 64<<10)
	s := &JSONSink{w: bw, stop: make(chan struct{}), done: make(chan struct{})}
	go s.flusher()
	return s
}

func (s *JSONSink) flusher() {
	defer close(s.done)
	t := time.NewTicker(FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.Drained()
		}
	}
}

// Drained implements Drainer: it writes out what is buffered.
func (s *JSONSink) Drained() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w.Buffered() > 0 {
		s.w.Flush()
	}
}

// Publish implements Sink.
func (s *JSONSink) Publish(ev *event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := event.AppendJSON(s.buf[:0], ev)
	if err != nil {
		return err
	}
	s.buf = append(b, '\n')
	_, err = s.w.Write(s.buf)
	return err
}

// Close flushes what is buffered and stops the flusher.
func (s *JSONSink) Close() error {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Flush()
}

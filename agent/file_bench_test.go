package agent

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/rules"
)

// kindSink counts events by kind and touches their payload, as a sink that
// encodes them would.
type kindSink struct{ n, bytes int }

func (s *kindSink) Publish(ev *event.Event) error {
	s.n++
	if ev.File != nil {
		s.bytes += len(ev.File.Path) + len(ev.File.Flags)
	}
	if ev.Process != nil {
		s.bytes += len(ev.Process.User)
	}
	return nil
}

// BenchmarkAgentFileWrite is the agent's work on one file.write record,
// from the decoded record through enrichment and the default host rules to
// the sink (not the encoding and spool, which the publisher's benchmarks
// measure): the path of figure 3's pipeline and of the write loop.
func BenchmarkAgentFileWrite(b *testing.B) {
	set, diags := rules.LoadDir("../rules/packs")
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	sink := &kindSink{}
	a := New(Options{Sink: sink, Rules: rules.NewEngine(set, rules.Options{Scope: rules.ScopeHost}),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	pid := uint32(os.Getpid())
	recs := make([]*sensor.FileWrite, 256)
	for i := range recs {
		recs[i] = &sensor.FileWrite{Header: sensor.Header{Type: sensor.RecFileWrite, PID: pid, TID: pid, UID: 1013, LoginUID: 1013,
			TS: uint64(i+1) * 1000, Comm: "loadgen"}, Reason: sensor.FileClose, Bytes: 512, Writes: 4,
			OpenFlags: 0o1101, Created: true, FSType: "tmpfs", Path: fmt.Sprintf("/dev/shm/bench/f-%d", i)}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.handle(recs[i%len(recs)])
	}
	if sink.n == 0 {
		b.Fatal("no events reached the sink")
	}
}

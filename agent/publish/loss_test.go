package publish

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testproc"
)

func TestFullSpoolEmitsLossRecord(t *testing.T) {
	port := testproc.FreePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	p := newPublisher(t, url, t.TempDir(), func(c *Config) { c.SpoolMaxMiB = 1 })
	defer p.Close()
	f := &fakeAgent{pub: p}
	p.Start(f)
	emitN(f, 20000) // ~ 4 MiB of events into a 1 MiB spool
	testproc.CheckFor(t, 5*time.Second, pollEvery, func() error {
		if p.Stats().Dropped > 0 {
			return nil
		}
		return fmt.Errorf("waiting for loss record: %+v", p.Stats())
	})
	_, st := startServer(t, port, t.TempDir())
	waitDrained(t, p, 20*time.Second)
	dropped := p.Stats().Dropped
	ctx := context.Background()
	info, _ := st.Info(ctx)
	var lossRecords, lossCount, got uint64
	seen, delivered, named := map[string]bool{}, map[uint64]bool{}, map[uint64]int{}
	for i := info.State.FirstSeq; i <= info.State.LastSeq; i++ {
		m, err := st.GetMsg(ctx, i)
		if err != nil || m.Subject != "vigil.leeds.ag-1.events" {
			continue
		}
		for _, ev := range msgEvents(t, m.Subject, m.Header, m.Data) {
			if seen[ev.ID] {
				continue
			}
			seen[ev.ID] = true
			got++
			delivered[ev.Seq] = true
			if ev.Kind != event.KindAgentLoss {
				continue
			}
			if l := ev.Loss; l.Reason != "spool_full" || l.BootID != "boot1" || l.Count != l.ToSeq-l.FromSeq+1 {
				t.Fatalf("loss record %+v: want spool_full of boot1, one count per seq", l)
			}
			lossRecords++
			lossCount += ev.Loss.Count
			for q := ev.Loss.FromSeq; q <= ev.Loss.ToSeq; q++ {
				named[q]++
			}
		}
	}
	// The loss records name the seqs that never arrived, each once
	// (nothing was delivered before the drops: no server yet).
	for q := uint64(1); q <= f.seq; q++ {
		if delivered[q] == (named[q] == 1) || named[q] > 1 {
			t.Fatalf("seq %d: delivered %v, named by loss records %d times", q, delivered[q], named[q])
		}
	}
	if lossRecords == 0 || lossCount != dropped {
		t.Fatalf("%d loss records counting %d, want spool_full records counting %d", lossRecords, lossCount, dropped)
	}
	// Every event emitted is either delivered or counted as lost.
	if got+dropped != f.seq {
		t.Fatalf("delivered %d + dropped %d != emitted %d", got, dropped, f.seq)
	}
}

package spool

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/testproc"
)

// BenchmarkFlush is one flush of the spool (flushEvery, 200 ms) at 1,000
// events/s of 1 KiB: 200 appends, then Flush, with the segment's sync and
// without, to measure what the sync costs.
func BenchmarkFlush(b *testing.B) {
	for _, sync := range []bool{true, false} {
		b.Run(fmt.Sprintf("sync=%v", sync), func(b *testing.B) {
			s, err := Open(b.TempDir(), 1<<30)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			s.SetSync(sync)
			data := make([]byte, 1024)
			seq := uint64(0)
			cpu0 := testproc.CPUTime()
			b.ResetTimer()
			for range b.N {
				for range 200 {
					seq++
					if err := s.Append(Record{Subject: "vigil.leeds.ag-1.events", ID: fmt.Sprintf("boot-%d", seq), Data: data}, "boot", seq, nil); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.Flush(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(testproc.CPUTime()-cpu0)/float64(b.N), "cpu-ns/flush")
		})
	}
}

// BenchmarkAppendDuringFlush is one flush of BenchmarkFlush's 200 records
// with appends going on meanwhile at 10,000 events/s: max-wait-ns is the
// longest one of them took (a sync under the spool's lock makes it the
// sync's length), appends/flush how many came while flushing.
func BenchmarkAppendDuringFlush(b *testing.B) {
	s, err := Open(b.TempDir(), 1<<30)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	data := make([]byte, 1024)
	seq := uint64(0)
	add := func() time.Duration {
		seq++
		t0 := time.Now()
		if err := s.Append(Record{Subject: "vigil.leeds.ag-1.events", ID: fmt.Sprintf("boot-%d", seq), Data: data}, "boot", seq, nil); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	var waited time.Duration
	appends := 0
	for b.Loop() {
		for range 200 {
			add()
		}
		done := make(chan error, 1)
		go func() { done <- s.Flush() }()
		var worst time.Duration
		next := time.Now()
		for flushing := true; flushing; {
			select {
			case err := <-done:
				if err != nil {
					b.Fatal(err)
				}
				flushing = false
			default:
				if time.Now().Before(next) {
					continue
				}
				next = next.Add(100 * time.Microsecond)
				worst = max(worst, add())
				appends++
			}
		}
		waited += worst
	}
	b.ReportMetric(float64(waited)/float64(b.N), "max-wait-ns")
	b.ReportMetric(float64(appends)/float64(b.N), "appends/flush")
}

package spool

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

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
			cpu0 := cpuTime()
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
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/flush")
		})
	}
}

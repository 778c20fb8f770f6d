package enrich

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A boot-time stamp taken now converts to now.
func TestClockConvertsBootTime(t *testing.T) {
	c := NewClock()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(c.Time(uint64(ts.Nano()))); d < -time.Second || d > time.Second {
		t.Errorf("a stamp taken now converts to %v from now", d)
	}
	if got := c.Time(uint64(ts.Nano()) + uint64(time.Hour)); got.Location() != time.UTC {
		t.Errorf("time in %v, want UTC", got.Location())
	}
}

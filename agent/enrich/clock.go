package enrich

import (
	"time"

	"golang.org/x/sys/unix"
)

// Clock converts CLOCK_BOOTTIME nanoseconds, as the kernel stamps records,
// to wall-clock time.
type Clock struct {
	offset time.Duration // wall - boottime
}

// NewClock measures the offset between wall time and boot time now.
func NewClock() Clock {
	var ts unix.Timespec
	before := time.Now()
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	after := time.Now()
	mid := before.Add(after.Sub(before) / 2)
	return Clock{offset: time.Duration(mid.UnixNano() - ts.Nano())}
}

// Time converts boot-time nanoseconds to wall time.
func (c Clock) Time(bootNS uint64) time.Time {
	return time.Unix(0, int64(bootNS)+int64(c.offset)).UTC()
}

package testproc

import (
	"syscall"
	"time"
)

// CPUTime is the user and system CPU this process has used, for benchmarks
// that report CPU per operation besides wall time.
func CPUTime() time.Duration { return rusage(syscall.RUSAGE_SELF) }

// ChildrenCPUTime is the user and system CPU of this process's children
// that have been waited for.
func ChildrenCPUTime() time.Duration { return rusage(syscall.RUSAGE_CHILDREN) }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(who, &ru) // cannot fail for these two
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

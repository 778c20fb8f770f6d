package sensor

import (
	"sync"

	"golang.org/x/sys/unix"
)

// KernelRelease is the running kernel's release (uname -r), read once.
var KernelRelease = sync.OnceValue(func() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
})

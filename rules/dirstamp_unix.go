//go:build unix

package rules

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix" // its Stat_t names the times Mtim and Ctim on every unix, unlike syscall's
)

// dirStamp is each rule file's name, inode, size, modification and change
// time, or "" (read the files) when the directory cannot be read or a file
// changed within racyStamp. Comparing stamps spares a check of unchanged
// files reading and hashing them, and is safe because a replaced file gets a
// new inode and an edited one a new change time, which no tool sets back.
func dirStamp(dir string) string {
	paths, err := Files(dir)
	if err != nil {
		return ""
	}
	var b []byte
	now := time.Now()
	for _, p := range paths {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			return ""
		}
		mtime, ctime := time.Unix(st.Mtim.Unix()), time.Unix(st.Ctim.Unix())
		if now.Sub(mtime) < racyStamp || now.Sub(ctime) < racyStamp {
			return ""
		}
		b = fmt.Appendf(b, "%s %d %d %d %d\n", p, st.Ino, st.Size, mtime.UnixNano(), ctime.UnixNano())
	}
	return string(b)
}

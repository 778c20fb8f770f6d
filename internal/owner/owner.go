// Package owner gives files an administrator makes as root to the user a
// packaged service runs as.
package owner

import (
	"fmt"
	"os"
	"syscall"
)

// Like gives path the owner of dir. An administrator runs vigil's commands
// as root, but the packaged collector runs as its own user, the owner of
// its data directory, and must read what they write there. It does
// nothing unless run as root.
func Like(path, dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		return nil
	}
	if err := os.Chown(path, int(sys.Uid), int(sys.Gid)); err != nil {
		return fmt.Errorf("giving %s to the owner of %s: %w", path, dir, err)
	}
	return nil
}

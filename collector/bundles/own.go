package bundles

import (
	"fmt"
	"os"
	"syscall"
)

// ownLike gives path the owner of dir: an administrator publishes as root,
// but the packaged collector runs as its own user, the data directory's
// owner, and must read what is published.
func ownLike(path, dir string) error {
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

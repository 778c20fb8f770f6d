package bundles

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/testenv"
)

// Published as root into the data directory of a collector running as its
// own user, the bundle is that user's, so the collector can serve it.
func TestPublishAsRootLeavesTheBundleToTheCollectorsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Skip(t, "needs root to publish as root into another user's data directory")
	}
	data := t.TempDir()
	const uid, gid = 65534, 65534
	if err := os.Chown(data, uid, gid); err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(data, "leeds", testSet(t), time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(data, Dir), filepath.Join(data, Dir, "site-leeds.bundle")} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if sys := st.Sys().(*syscall.Stat_t); sys.Uid != uid || sys.Gid != gid {
			t.Errorf("%s is owned by %d:%d, want the data directory's %d:%d", p, sys.Uid, sys.Gid, uid, gid)
		}
	}
}

package owner

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/vigilhq/vigil/internal/testkernel"
)

// Run as root, a file made in a directory another user owns becomes that
// user's.
func TestLike(t *testing.T) {
	testkernel.RequireRoot(t)
	const nobody = 65534
	dir := t.TempDir()
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Like(path, dir); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if sys := st.Sys().(*syscall.Stat_t); sys.Uid != nobody || sys.Gid != nobody {
		t.Errorf("owner %d:%d, want %d:%d", sys.Uid, sys.Gid, nobody, nobody)
	}
	if err := Like(path, filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing directory gave no error")
	}
}

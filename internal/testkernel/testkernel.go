package testkernel

import (
	"os"
	"testing"

	"github.com/vigilhq/vigil/internal/testenv"
)

// RequireRoot skips the test unless it runs as root on a kernel with BTF,
// which loading eBPF programs needs; under CI, which runs as root, it
// fails instead (testenv.Skip).
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Skip(t, "loading eBPF programs needs root")
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		testenv.Skip(t, "loading eBPF programs needs a kernel with BTF (/sys/kernel/btf/vmlinux)")
	}
}

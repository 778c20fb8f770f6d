package testkernel

import (
	"os"
	"testing"
)

// RequireRoot skips the test unless it runs as root, which loading eBPF
// programs needs. CI runs as root, so these tests run there.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: loading eBPF programs needs root (CI runs these as root)")
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skip("skipping: kernel has no BTF (/sys/kernel/btf/vmlinux)")
	}
}

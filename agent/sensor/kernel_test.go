package sensor

import (
	"os"
	"strings"
	"testing"
)

// The release is the one /proc reports, without its newline.
func TestKernelRelease(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := KernelRelease(), strings.TrimSpace(string(b)); got != want || got == "" {
		t.Errorf("KernelRelease() = %q, want %q", got, want)
	}
}

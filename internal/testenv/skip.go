package testenv

import (
	"fmt"
	"os"
	"testing"
)

// InCI reports whether the tests run under CI: the CI variable is set to
// anything but "", "0" or "false" (.ci/run sets CI=true).
func InCI() bool {
	switch os.Getenv("CI") {
	case "", "0", "false", "FALSE", "False":
		return false
	}
	return true
}

// Skip skips t saying why, or under CI fails it: CI must provide what the
// test needs.
func Skip(t testing.TB, why string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s: CI must provide this (install it in .ci/run), not skip", why)
	} else {
		t.Skip(why)
	}
}

// Skipf is Skip with a formatted reason.
func Skipf(t testing.TB, format string, args ...any) {
	t.Helper()
	Skip(t, fmt.Sprintf(format, args...))
}

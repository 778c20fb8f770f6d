package testproc

import (
	"fmt"
	"net"
	"testing"
)

// FindFreePort returns a TCP port that was free on 127.0.0.1 when asked.
func FindFreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreePort is FindFreePort for tests.
func FreePort(tb testing.TB) int {
	tb.Helper()
	port, err := FindFreePort()
	if err != nil {
		tb.Fatal(err)
	}
	return port
}

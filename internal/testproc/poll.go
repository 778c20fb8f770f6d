package testproc

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Poll calls check every interval until it returns nil. When check has not
// succeeded within wait, or ctx ends first, Poll returns check's last
// error, which says what state the wait ended in.
func Poll(ctx context.Context, wait, every time.Duration, check func() error) error {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", context.Cause(ctx), err)
		case <-deadline.C:
			return fmt.Errorf("after %s: %w", wait, err)
		case <-tick.C:
		}
	}
}

// CheckFor is Poll for tests: it fails the test with check's last error.
func CheckFor(tb testing.TB, wait, every time.Duration, check func() error) {
	tb.Helper()
	if err := Poll(tb.Context(), wait, every, check); err != nil {
		tb.Fatal(err)
	}
}

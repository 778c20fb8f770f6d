package auth

import (
	"testing"
	"time"
)

// The sixth try within the window waits until the first failure leaves
// it, whatever the name's case; a success forgets; another name is not
// held out.
func TestThrottle(t *testing.T) {
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	th := NewThrottle()
	th.now = func() time.Time { return now }
	for i := range MaxFailures {
		if w := th.Wait("ana"); w != 0 {
			t.Fatalf("try %d waits %v", i+1, w)
		}
		th.Failed("ana")
		now = now.Add(time.Minute)
	}
	if w := th.Wait("ANA"); w != FailureWindow-MaxFailures*time.Minute {
		t.Errorf("after %d failures: wait %v, want %v", MaxFailures, w, FailureWindow-MaxFailures*time.Minute)
	}
	if w := th.Wait("ben"); w != 0 {
		t.Errorf("another name waits %v", w)
	}
	now = now.Add(FailureWindow - MaxFailures*time.Minute)
	if w := th.Wait("ana"); w != 0 {
		t.Errorf("once the first failure left the window: wait %v", w)
	}
	th.Failed("ana")
	th.Succeeded("ana")
	if w := th.Wait("ana"); w != 0 || len(th.failures) != 0 {
		t.Errorf("after a success: wait %v, %d names held", w, len(th.failures))
	}
}

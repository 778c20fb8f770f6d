package auth

import (
	"strings"
	"sync"
	"time"
)

// Sign-in throttling: after MaxFailures failed sign-ins for one name within
// FailureWindow, that name may not try again until the oldest failure
// leaves the window, so a password cannot be guessed at the speed of the
// KDF. The price is that a stranger can hold one user out for a while.
const (
	MaxFailures   = 5
	FailureWindow = 15 * time.Minute
)

// Throttle counts failed sign-ins by user name.
type Throttle struct {
	mu       sync.Mutex
	failures map[string][]time.Time
	now      func() time.Time
}

// NewThrottle returns a Throttle with no failures.
func NewThrottle() *Throttle {
	return &Throttle{failures: map[string][]time.Time{}, now: time.Now}
}

func key(name string) string { return strings.ToLower(name) }

// Wait says how long name must wait before it may try to sign in: 0 when
// it may now.
func (t *Throttle) Wait(name string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	list := t.recent(key(name), now)
	if len(list) < MaxFailures {
		return 0
	}
	return list[len(list)-MaxFailures].Add(FailureWindow).Sub(now)
}

// Failed records a failed sign-in for name.
func (t *Throttle) Failed(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	k := key(name)
	t.failures[k] = append(t.recent(k, now), now)
	if len(t.failures) > 10000 { // names made up by a scanner: drop those that are quiet
		for k := range t.failures {
			if len(t.recent(k, now)) == 0 {
				delete(t.failures, k)
			}
		}
	}
}

// Succeeded forgets name's failures.
func (t *Throttle) Succeeded(name string) {
	t.mu.Lock()
	delete(t.failures, key(name))
	t.mu.Unlock()
}

// recent keeps name's failures within the window; t.mu is held.
func (t *Throttle) recent(k string, now time.Time) []time.Time {
	list := t.failures[k]
	i := 0
	for i < len(list) && now.Sub(list[i]) >= FailureWindow {
		i++
	}
	list = list[i:]
	if len(list) == 0 {
		delete(t.failures, k)
		return nil
	}
	t.failures[k] = list
	return list
}

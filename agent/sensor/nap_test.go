package sensor

import (
	"testing"
	"time"
)

func TestNextNap(t *testing.T) {
	const poll, maxPoll = 10 * time.Millisecond, 40 * time.Millisecond
	nap := poll
	// An idle ring: the sleep doubles up to maxPoll and stays there.
	for _, want := range []time.Duration{20, 40, 40, 40} {
		nap = nextNap(nap, 0, poll, maxPoll)
		if nap != want*time.Millisecond {
			t.Fatalf("idle: nap = %v, want %v ms", nap, want)
		}
	}
	if got := nextNap(nap, smallDrain, poll, maxPoll); got != nap {
		t.Errorf("a middling drain changed the nap: %v", got)
	}
	if got := nextNap(nap, bigDrain+1, poll, maxPoll); got != poll {
		t.Errorf("a big drain: nap = %v, want poll", got)
	}
	// MaxPoll not a power-of-two multiple of Poll still caps.
	if got := nextNap(30*time.Millisecond, 0, poll, 50*time.Millisecond); got != 50*time.Millisecond {
		t.Errorf("nap = %v, want the cap", got)
	}
}

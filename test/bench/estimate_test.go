package main

import (
	"testing"
	"time"
)

// make bench measures everything in about half an hour on 2 cores, even
// when every pipeline series climbs to its last step.
func TestDefaultRunFitsHalfAnHour(t *testing.T) {
	if d := estimate(defaultOptions()); d > 30*time.Minute {
		t.Errorf("the default run takes about %s, over 30 minutes", d.Round(time.Second))
	}
}

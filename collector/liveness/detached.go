package liveness

import "slices"

// newlyDetached returns the probes (or blind paths) of now that were not
// reported at the last heartbeat of the same boot: each alerts once.
func newlyDetached(now, before []string, newBoot bool) []string {
	var fresh []string
	for _, d := range now {
		if newBoot || !slices.Contains(before, d) {
			fresh = append(fresh, d)
		}
	}
	return fresh
}

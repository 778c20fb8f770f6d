package liveness

import "slices"

// newlyDetached returns the probes of now that were not detached at the
// last heartbeat of the same boot: each detachment alerts once.
func newlyDetached(now, before []string, newBoot bool) []string {
	var fresh []string
	for _, d := range now {
		if newBoot || !slices.Contains(before, d) {
			fresh = append(fresh, d)
		}
	}
	return fresh
}

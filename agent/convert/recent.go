package convert

import "sync"

// recentPaths remembers the last n paths written, to relate renames to them.
// The idle-file sweep adds to it from its own goroutine.
type recentPaths struct {
	mu sync.Mutex
	// ring holds the last len(ring) paths added, the oldest at next once
	// it is full; set counts each path's entries in it.
	ring []string
	next int
	full bool
	set  map[string]int
}

func newRecentPaths(n int) *recentPaths {
	return &recentPaths{ring: make([]string, n), set: make(map[string]int, n)}
}

func (r *recentPaths) add(p string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.full {
		old := r.ring[r.next]
		if r.set[old]--; r.set[old] == 0 {
			delete(r.set, old)
		}
	}
	r.set[p]++
	r.ring[r.next] = p
	if r.next++; r.next == len(r.ring) {
		r.next, r.full = 0, true
	}
}

func (r *recentPaths) has(p string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.set[p] > 0
}

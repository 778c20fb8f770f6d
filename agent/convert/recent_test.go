package convert

import (
	"fmt"
	"testing"
)

// recentPaths keeps exactly the last n paths added, counting repeats.
func TestRecentPathsKeepsTheLastN(t *testing.T) {
	r := newRecentPaths(3)
	for i := range 5 {
		r.add(fmt.Sprint("/p", i))
	}
	for i, want := range []bool{false, false, true, true, true} {
		if got := r.has(fmt.Sprint("/p", i)); got != want {
			t.Errorf("has /p%d = %v after 5 adds to 3 slots, want %v", i, got, want)
		}
	}
	// A path added twice stays while either entry does.
	r.add("/p4") // slots: /p3 /p4 /p4
	r.add("/x")  // slots: /p4 /p4 /x
	r.add("/y")  // slots: /p4 /x /y
	if !r.has("/p4") || r.has("/p3") {
		t.Errorf("has /p4 = %v (want true), /p3 = %v (want false)", r.has("/p4"), r.has("/p3"))
	}
	r.add("/z") // slots: /x /y /z
	if r.has("/p4") || len(r.set) != 3 {
		t.Errorf("has /p4 = %v (want false), %d paths counted (want 3)", r.has("/p4"), len(r.set))
	}
}

package convert

import (
	"slices"
	"testing"

	"github.com/vigilhq/vigil/event"
)

// Events of one process in a row share its description until it changes;
// flag names are shared per flags word; both maps stay bounded.
func TestSharedDescriptions(t *testing.T) {
	var s shared
	p := event.Process{PID: 7, Comm: "python3", UID: 1013, User: "mona", LoginUID: 1013, LoginUser: "mona"}
	a, b := s.process(p), s.process(p)
	if a != b || *a != p {
		t.Fatalf("the same description twice: %p and %p, want one shared pointer to it", a, b)
	}
	p.UID, p.User = 0, "root" // sudo
	if c := s.process(p); c == a || *c != p || a.User != "mona" {
		t.Fatalf("a changed description: got %+v (shared %v), earlier events' %+v", *c, c == a, *a)
	}
	for pid := range uint32(3 * sharedMax) {
		s.process(event.Process{PID: pid})
		s.openFlags(pid)
	}
	if len(s.procs) > sharedMax || len(s.flags) > sharedMax {
		t.Fatalf("maps hold %d processes and %d flag words, over %d", len(s.procs), len(s.flags), sharedMax)
	}
	const flags = 0o1101 // O_WRONLY|O_CREAT|O_TRUNC
	if got := s.openFlags(flags); !slices.Equal(got, OpenFlags(flags)) || &got[0] != &s.openFlags(flags)[0] {
		t.Fatalf("openFlags(%o) = %v, want %v, shared", flags, got, OpenFlags(flags))
	}
}

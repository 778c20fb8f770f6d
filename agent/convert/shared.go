package convert

import "github.com/vigilhq/vigil/event"

// shared hands out parts of events that many events in a row have alike,
// as one value they share instead of a copy each: a process's description
// and an open's flag names. Events never change them once made. One
// goroutine uses it; a nil *shared hands out copies.
type shared struct {
	procs map[uint32]*event.Process
	flags map[uint32][]string
}

// sharedMax bounds each map: past it, the map starts afresh.
const sharedMax = 1024

// process returns p, as the pointer given out for p's pid last if that
// one describes the process the same.
func (s *shared) process(p event.Process) *event.Process {
	if s == nil {
		// A copy made here, not &p: that would move every p to the heap.
		q := new(event.Process)
		*q = p
		return q
	}
	if q := s.procs[p.PID]; q != nil && *q == p {
		return q
	}
	if s.procs == nil || len(s.procs) >= sharedMax {
		s.procs = make(map[uint32]*event.Process)
	}
	q := new(event.Process)
	*q = p
	s.procs[p.PID] = q
	return q
}

// openFlags is OpenFlags(flags), shared.
func (s *shared) openFlags(flags uint32) []string {
	if s == nil {
		return OpenFlags(flags)
	}
	if names, ok := s.flags[flags]; ok {
		return names
	}
	if s.flags == nil || len(s.flags) >= sharedMax {
		s.flags = make(map[uint32][]string)
	}
	names := OpenFlags(flags)
	s.flags[flags] = names
	return names
}

package agent

import (
	"path"
	"strings"
	"sync"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/event"
)

// handle turns one kernel record into zero or more events.
func (a *Agent) handle(rec any) {
	switch r := rec.(type) {
	case *sensor.Fork:
		a.procs.Fork(r)
	case *sensor.Exec:
		p := a.procs.Exec(r)
		a.Emit(&event.Event{Time: a.clock.Time(r.TS), Kind: event.KindProcessExec, Process: &p})
	case *sensor.Exit:
		p := a.procs.Exit(r)
		code, sig := r.ExitCode>>8&0xff, r.ExitCode&0x7f
		a.Emit(&event.Event{Time: a.clock.Time(r.TS), Kind: event.KindProcessExit, Process: &p,
			Exit: &event.Exit{Code: code, Signal: sig}})
	case *sensor.FileWrite:
		a.Emit(a.fileWrite(r))
	case *sensor.Rename:
		if ev := a.rename(r); ev != nil {
			a.Emit(ev)
		}
	case *db.Data:
		a.dbData(r)
	case *db.Close:
		a.dbClose(r)
	case *sensor.TCP:
		a.Emit(a.tcp(r))
	}
}

var fileReasons = map[uint32]string{
	sensor.FileClose: "close", sensor.FileExit: "exit", sensor.FileInterim: "interim", sensor.FileIdle: "idle",
}

func (a *Agent) fileWrite(r *sensor.FileWrite) *event.Event {
	h := r.Header
	if r.WriterPID != 0 && r.WriterPID != h.PID {
		h.PID, h.TID = r.WriterPID, r.WriterPID
	}
	f := &event.File{
		Path: r.Path, Bytes: r.Bytes, Writes: r.Writes, Flags: a.shared.openFlags(r.OpenFlags),
		FSType: r.FSType, Created: r.Created, Reason: fileReasons[r.Reason],
	}
	if r.PathTruncated {
		f.Path = "..." + f.Path
	}
	if r.LastTS > r.FirstTS && r.FirstTS != 0 {
		f.DurationMS = (r.LastTS - r.FirstTS) / 1e6
	}
	if m, ok := a.mounts.Lookup(r.Dev); ok {
		f.Mount, f.Removable, f.Network = m.Point, m.Removable, m.Network
		if f.FSType == "" {
			f.FSType = m.FSType
		}
	}
	a.recent.add(f.Path)
	return &event.Event{Time: a.clock.Time(r.TS), Kind: event.KindFileWrite, Process: a.shared.process(a.procs.Lookup(&h)), File: f}
}

// rename reports renames of files the agent saw written recently: the last
// step of "write dump.tmp, rename to dump.csv" or moving an export into a
// synced folder.
func (a *Agent) rename(r *sensor.Rename) *event.Event {
	oldPath := joinBase(r.OldBase, r.OldName)
	if !a.recent.has(oldPath) {
		return nil
	}
	newPath := joinBase(r.NewBase, r.NewName)
	a.recent.add(newPath)
	f := &event.File{Path: newPath, OldPath: oldPath}
	return &event.Event{Time: a.clock.Time(r.TS), Kind: event.KindFileRename, Process: a.shared.process(a.procs.Lookup(&r.Header)), File: f}
}

func joinBase(base, name string) string {
	if strings.HasPrefix(name, "/") || base == "" {
		return path.Clean(name)
	}
	return path.Join(base, name)
}

// openFlagNames are the open(2) flags worth naming, in display order.
var openFlagNames = []struct {
	bit  uint32
	name string
}{
	{0o100, "O_CREAT"}, {0o200, "O_EXCL"}, {0o1000, "O_TRUNC"}, {0o2000, "O_APPEND"},
	{0o4000, "O_NONBLOCK"}, {0o10000, "O_DSYNC"}, {0o40000, "O_DIRECT"}, {0o20000000, "O_TMPFILE"},
}

// OpenFlags names the access mode and flags of an open(2) flags word.
func OpenFlags(flags uint32) []string {
	out := []string{[]string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"}[flags&3]}
	for _, f := range openFlagNames {
		if flags&f.bit == f.bit {
			out = append(out, f.name)
		}
	}
	return out
}

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

// shared hands out parts of events that many events in a row have alike,
// as one value they share instead of a copy each: a process's description
// and an open's flag names. Events never change them once made. Only the
// reader goroutine (handle) uses it.
type shared struct {
	procs map[uint32]*event.Process
	flags map[uint32][]string
}

// sharedMax bounds each map: past it, the map starts afresh.
const sharedMax = 1024

// process returns p, as the pointer given out for p's pid last if that
// one describes the process the same.
func (s *shared) process(p event.Process) *event.Process {
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

package convert

import (
	"path"
	"strings"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/event"
)

var fileReasons = map[uint32]string{
	sensor.FileClose: "close", sensor.FileExit: "exit", sensor.FileInterim: "interim", sensor.FileIdle: "idle",
}

// Files returns the events of files the sensor's idle sweep reported.
func (c *Converter) Files(recs []*sensor.FileWrite) []*event.Event {
	out := make([]*event.Event, 0, len(recs))
	for _, r := range recs {
		// Not the reader's: its shared descriptions are the reader's alone.
		out = append(out, c.fileWrite(r, nil))
	}
	return out
}

// fileEvent is a file.write and its file in one allocation, since they
// live and die together and there is one per write the sensor reports.
type fileEvent struct {
	ev event.Event
	f  event.File
}

// fileWrite makes a file.write event, sharing descriptions through s when
// it is not nil.
func (c *Converter) fileWrite(r *sensor.FileWrite, s *shared) *event.Event {
	h := r.Header
	if r.WriterPID != 0 && r.WriterPID != h.PID {
		h.PID, h.TID = r.WriterPID, r.WriterPID
	}
	fe := &fileEvent{f: event.File{
		Path: r.Path, Bytes: r.Bytes, Writes: r.Writes, Flags: s.openFlags(r.OpenFlags),
		FSType: r.FSType, Created: r.Created, Reason: fileReasons[r.Reason],
	}}
	f := &fe.f
	if r.PathTruncated {
		f.Path = "..." + f.Path
	}
	if r.LastTS > r.FirstTS && r.FirstTS != 0 {
		f.DurationMS = (r.LastTS - r.FirstTS) / 1e6
	}
	if m, ok := c.mounts.File(r.Dev, f.Path); ok {
		f.Mount, f.Removable, f.Network = m.Point, m.Removable, m.Network
		if f.FSType == "" {
			f.FSType = m.FSType
		}
	}
	c.recent.add(f.Path)
	fe.ev = event.Event{Time: c.clock.Time(r.TS), Kind: event.KindFileWrite, Process: s.process(c.procs.Lookup(&h)), File: f}
	return &fe.ev
}

// rename reports renames of files the agent saw written recently: the last
// step of "write dump.tmp, rename to dump.csv" or moving an export into a
// synced folder.
func (c *Converter) rename(r *sensor.Rename) *event.Event {
	oldPath := joinBase(r.OldBase, r.OldName)
	if !c.recent.has(oldPath) {
		return nil
	}
	newPath := joinBase(r.NewBase, r.NewName)
	c.recent.add(newPath)
	f := &event.File{Path: newPath, OldPath: oldPath}
	return &event.Event{Time: c.clock.Time(r.TS), Kind: event.KindFileRename, Process: c.shared.process(c.procs.Lookup(&r.Header)), File: f}
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

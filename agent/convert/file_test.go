package convert

import (
	"slices"
	"testing"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/event"
)

// A write record becomes a file.write: the writer's pid over the opener's,
// a cut path marked, the time between first and last write, flag names.
func TestFileWrite(t *testing.T) {
	c := newConverter()
	h := header(5_000_000_000)
	opener := h
	opener.PID = 1 // the file was opened by another process, which passed it on
	r := &sensor.FileWrite{Header: opener, WriterPID: h.PID, Reason: sensor.FileInterim, FirstTS: 1_000_000_000,
		LastTS: 3_500_000_000, Bytes: 4096, Writes: 2, OpenFlags: 0o1101, Created: true, PathTruncated: true, Path: "/exports/customers.csv"}
	ev := c.Record(r)
	f := ev.File
	if ev.Kind != event.KindFileWrite || ev.Process.PID != h.PID || f.Path != ".../exports/customers.csv" ||
		f.DurationMS != 2500 || f.Reason != "interim" || f.Bytes != 4096 || f.Writes != 2 || !f.Created ||
		!slices.Equal(f.Flags, []string{"O_WRONLY", "O_CREAT", "O_TRUNC"}) {
		t.Fatalf("file.write %+v by pid %d", f, ev.Process.PID)
	}
}

// Files from the idle sweep get descriptions of their own: the reader's
// shared ones are not touched from the sweep's goroutine.
func TestFilesDoNotShare(t *testing.T) {
	c := newConverter()
	r := &sensor.FileWrite{Header: header(1000), Reason: sensor.FileIdle, OpenFlags: 1, Path: "/tmp/a"}
	read := c.Record(r)
	swept := c.Files([]*sensor.FileWrite{r, r})
	if len(swept) != 2 || swept[0].Process == read.Process || swept[0].Process == swept[1].Process || &swept[0].File.Flags[0] == &read.File.Flags[0] {
		t.Fatal("swept files share the reader's descriptions")
	}
	if swept[0].File.Reason != "idle" || *swept[0].Process != *read.Process {
		t.Errorf("swept %+v %+v, want the same description as the reader's", swept[0].File, swept[0].Process)
	}
	if len(c.shared.procs) != 1 {
		t.Errorf("shared holds %d processes after one reader event", len(c.shared.procs))
	}
}

// A rename is reported only for a file seen written (the last step of
// writing an export under a temporary name), with paths made absolute.
func TestRenameOfWrittenFile(t *testing.T) {
	c := newConverter()
	if ev := c.Record(&sensor.Rename{Header: header(1), OldName: "/tmp/x", NewName: "/tmp/y"}); ev != nil {
		t.Fatalf("rename of a file never written reported: %+v", ev.File)
	}
	c.Record(&sensor.FileWrite{Header: header(2), Path: "/home/ann/dump.tmp"})
	ev := c.Record(&sensor.Rename{Header: header(3), OldBase: "/home/ann", OldName: "dump.tmp", NewBase: "/home/ann", NewName: "../ann/Sync/dump.csv"})
	if ev == nil || ev.Kind != event.KindFileRename || ev.File.OldPath != "/home/ann/dump.tmp" || ev.File.Path != "/home/ann/Sync/dump.csv" {
		t.Fatalf("rename %+v", ev)
	}
	// The new name is remembered: renaming it again is reported too.
	if ev := c.Record(&sensor.Rename{Header: header(4), OldName: "/home/ann/Sync/dump.csv", NewName: "/media/usb/dump.csv"}); ev == nil {
		t.Error("a second rename of the same export was not reported")
	}
}

func TestJoinBase(t *testing.T) {
	for _, tc := range []struct{ base, name, want string }{
		{"/a/b", "c", "/a/b/c"}, {"/a/b", "/x/./y", "/x/y"}, {"", "rel/../z", "z"}, {"/a", "../b", "/b"},
	} {
		if got := joinBase(tc.base, tc.name); got != tc.want {
			t.Errorf("joinBase(%q, %q) = %q, want %q", tc.base, tc.name, got, tc.want)
		}
	}
}

// A file.write from the reader is one allocation: the event and its file
// together (process descriptions and flag names are shared).
func TestFileWriteAllocatesOnce(t *testing.T) {
	c := newConverter()
	r := &sensor.FileWrite{Header: header(1000), Reason: sensor.FileClose, OpenFlags: 0o1101, Bytes: 512, Path: "/dev/shm/f"}
	c.Record(r)
	if n := testing.AllocsPerRun(100, func() { c.Record(r) }); n > 1 {
		t.Errorf("a file.write takes %v allocations, want 1", n)
	}
}

package file_test

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/file"
)

// Every open, write and rename call the sensor watches is read right: the
// sensor reads a call's arguments back at its exit, so a wrong register
// (the descriptor of copy_file_range is its third argument, renameat's new
// name its fourth) shows here as a file missing, miscounted or misnamed.
// Each file is opened by a different open call and written by a different
// write call, twice, and must be reported with its exact bytes, both
// writes, and the open's flags.
func TestEveryCall(t *testing.T) {
	set := start(t, file.Config{})
	dir := t.TempDir()
	src := filepath.Join(dir, "source")
	if err := os.WriteFile(src, []byte("0123456789abcdef"), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := unix.Open(src, unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(in)
	// The source's own report (written above) is not one of the cases.
	next(t, set, func(w *sensor.FileWrite) bool { return w.Path == src })

	const flags = unix.O_CREAT | unix.O_WRONLY | unix.O_TRUNC
	opens := map[string]func(path string) (int, error){
		"open":   func(path string) (int, error) { return syscallPath(unix.SYS_OPEN, path, flags, 0o600) },
		"creat":  func(path string) (int, error) { return syscallPath(unix.SYS_CREAT, path, 0o600, 0) },
		"openat": func(path string) (int, error) { return unix.Openat(unix.AT_FDCWD, path, flags, 0o600) },
		"openat2": func(path string) (int, error) {
			return unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{Flags: flags, Mode: 0o600})
		},
	}
	cases := []struct {
		name  string
		open  string
		write func(fd int) (int, error) // writes 4 bytes
	}{
		{"write", "open", func(fd int) (int, error) { return unix.Write(fd, []byte("abcd")) }},
		{"pwrite64", "creat", func(fd int) (int, error) {
			off, _ := unix.Seek(fd, 0, 1)
			n, err := unix.Pwrite(fd, []byte("abcd"), off)
			unix.Seek(fd, int64(n), 1)
			return n, err
		}},
		{"writev", "openat", func(fd int) (int, error) { return unix.Writev(fd, [][]byte{[]byte("ab"), []byte("cd")}) }},
		{"pwritev", "openat2", func(fd int) (int, error) {
			off, _ := unix.Seek(fd, 0, 1)
			n, err := unix.Pwritev(fd, [][]byte{[]byte("a"), []byte("bcd")}, off)
			unix.Seek(fd, int64(n), 1)
			return n, err
		}},
		{"pwritev2", "openat", func(fd int) (int, error) {
			return unix.Pwritev2(fd, [][]byte{[]byte("abcd")}, -1, 0) // -1: at the file offset
		}},
		{"sendfile", "openat", func(fd int) (int, error) {
			off := int64(0)
			return unix.Sendfile(fd, in, &off, 4)
		}},
		{"copy_file_range", "openat", func(fd int) (int, error) {
			off := int64(0)
			return unix.CopyFileRange(in, &off, fd, nil, 4, 0)
		}},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		fd, err := opens[c.open](path)
		if err != nil {
			t.Fatalf("%s: %s: %v", c.name, c.open, err)
		}
		for range 2 {
			if n, err := c.write(fd); err != nil || n != 4 {
				unix.Close(fd)
				t.Fatalf("%s: wrote %d bytes: %v", c.name, n, err)
			}
		}
		if err := unix.Close(fd); err != nil {
			t.Fatal(err)
		}
		w := next(t, set, func(w *sensor.FileWrite) bool { return filepath.Dir(w.Path) == dir })
		if w.Path != path || w.Bytes != 8 || w.Writes != 2 || w.Reason != sensor.FileClose {
			t.Errorf("%s: reported %s, %d bytes in %d writes, reason %d; want %s, 8 bytes in 2 writes at close",
				c.name, w.Path, w.Bytes, w.Writes, w.Reason, path)
		}
		if !w.FlagsFromOpen || !w.Created || w.OpenFlags&flags != flags {
			t.Errorf("%s (opened by %s): from open=%v created=%v flags=%#o, want %#o from the open",
				c.name, c.open, w.FlagsFromOpen, w.Created, w.OpenFlags, flags)
		}
	}

	// Renames through directory descriptors: renameat's and renameat2's
	// names are relative to their dfd arguments (the first and third).
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	subfd, err := unix.Open(sub, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(subfd)
	renames := []struct {
		call     string
		old, new string
		do       func() error
	}{
		{"renameat", "write", "moved", func() error { return unix.Renameat(dfd, "write", subfd, "moved") }},
		{"renameat2", "writev", "moved2", func() error { return unix.Renameat2(dfd, "writev", subfd, "moved2", 0) }},
	}
	for _, r := range renames {
		if err := r.do(); err != nil {
			t.Fatalf("%s: %v", r.call, err)
		}
		got := next(t, set, func(got *sensor.Rename) bool { return got.PID == uint32(os.Getpid()) })
		if filepath.Join(got.OldBase, got.OldName) != filepath.Join(dir, r.old) ||
			filepath.Join(got.NewBase, got.NewName) != filepath.Join(sub, r.new) {
			t.Errorf("%s: reported %s -> %s, want %s -> %s", r.call, filepath.Join(got.OldBase, got.OldName),
				filepath.Join(got.NewBase, got.NewName), filepath.Join(dir, r.old), filepath.Join(sub, r.new))
		}
	}
}

// syscallPath makes system call nr with path and two more arguments, for
// the calls x/sys/unix makes with openat instead (open and creat).
func syscallPath(nr uintptr, path string, a2, a3 uintptr) (int, error) {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return -1, err
	}
	r, _, errno := unix.Syscall(nr, uintptr(unsafe.Pointer(p)), a2, a3)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

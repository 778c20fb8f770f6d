package file_test

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/file"
	"github.com/vigilhq/vigil/internal/testkernel"
)

func start(t *testing.T, cfg file.Config) *sensor.Set {
	t.Helper()
	testkernel.RequireRoot(t)
	set, err := sensor.Start([]sensor.Sensor{file.New(cfg)}, sensor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	return set
}

var update = flag.Bool("update", false, "rewrite the recorded samples in testdata/")

// A recorded report of 3 MiB written to /tmp/.../export.csv decodes without
// a kernel (the sample is recorded by TestWriteAndPwriteSummedExactly -update).
func TestDecodeRecordedFileWrite(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "file_write.bin"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := file.Decode(sensor.RecFileWrite, raw)
	if err != nil {
		t.Fatal(err)
	}
	w := r.(*sensor.FileWrite)
	if w.Bytes != 3145728 || filepath.Base(w.Path) != "export.csv" || !w.Created || w.Reason != sensor.FileClose || w.FSType == "" {
		t.Errorf("decoded %+v", w)
	}
	if _, err := file.Decode(sensor.RecFileWrite, raw[:40]); err == nil {
		t.Error("a short record decoded")
	}
}

// next returns records until match accepts one, failing after a deadline.
// With -update it saves the matching record's raw bytes as testdata/<save>.
func next[T any](t *testing.T, set *sensor.Set, match func(T) bool, save ...string) T {
	t.Helper()
	stop := time.AfterFunc(15*time.Second, func() { set.Close() })
	defer stop.Stop()
	for {
		r, err := set.Read()
		if errors.Is(err, sensor.ErrClosed) {
			var zero T
			t.Fatalf("no matching %T record before the deadline", zero)
		}
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := r.(T); ok && match(v) {
			if *update && len(save) > 0 {
				if err := os.WriteFile(filepath.Join("testdata", save[0]), set.Raw(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			return v
		}
	}
}

func TestWriteAndPwriteSummedExactly(t *testing.T) {
	set := start(t, file.Config{SkipPrefixes: file.DefaultSkipPrefixes, SkipFSMagics: file.DefaultSkipFSMagics})
	path := filepath.Join(t.TempDir(), "export.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	half := make([]byte, 3<<20/2)
	for off := 0; off < len(half); off += 64 << 10 { // many write(2) calls
		if _, err := f.Write(half[off : off+64<<10]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.WriteAt(half, int64(len(half))); err != nil { // pwrite64(2)
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	w := next(t, set, func(w *sensor.FileWrite) bool { return w.Path == path }, "file_write.bin")
	if w.Bytes != 3145728 {
		t.Errorf("bytes = %d, want 3145728", w.Bytes)
	}
	if w.Reason != sensor.FileClose || w.WriterPID != uint32(os.Getpid()) || w.PID != uint32(os.Getpid()) {
		t.Errorf("record = %+v, want closed by pid %d", w, os.Getpid())
	}
	if !w.Created || !w.FlagsFromOpen || w.OpenFlags&uint32(os.O_CREATE) == 0 {
		t.Errorf("flags: created=%v from open=%v flags=%#o", w.Created, w.FlagsFromOpen, w.OpenFlags)
	}
	if w.Writes != uint64(len(half)/(64<<10))+1 {
		t.Errorf("writes = %d", w.Writes)
	}
}

func TestShellRedirectAttributedToWriter(t *testing.T) {
	set := start(t, file.Config{})
	path := filepath.Join(t.TempDir(), "dump.sql")
	cmd := exec.Command("/bin/sh", "-c", "head -c 1048576 /dev/zero > "+path)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	var total uint64
	for total < 1<<20 {
		w := next(t, set, func(w *sensor.FileWrite) bool { return w.Path == path })
		total += w.Bytes
		if w.Comm != "head" {
			t.Errorf("writer comm = %q, want head", w.Comm)
		}
	}
	if total != 1<<20 {
		t.Errorf("total = %d", total)
	}
}

func TestSkippedPrefixNotReported(t *testing.T) {
	dir := t.TempDir()
	skipped := filepath.Join(dir, "skipped")
	if err := os.Mkdir(skipped, 0o700); err != nil {
		t.Fatal(err)
	}
	set := start(t, file.Config{SkipPrefixes: []string{skipped}})
	if err := os.WriteFile(filepath.Join(skipped, "noise"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	sentinel := filepath.Join(dir, "sentinel")
	if err := os.WriteFile(sentinel, []byte("y"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The ring buffer keeps order, so the skipped file's record would come first.
	w := next(t, set, func(w *sensor.FileWrite) bool {
		if filepath.Dir(w.Path) == skipped {
			t.Errorf("write under skipped prefix reported: %+v", w)
		}
		return w.Path == sentinel
	})
	if w.Bytes != 1 {
		t.Errorf("sentinel bytes = %d", w.Bytes)
	}
}

func TestInterimAndRename(t *testing.T) {
	set := start(t, file.Config{Interim: 50 * time.Millisecond})
	dir := t.TempDir()
	path := filepath.Join(dir, "long.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("first"))
	// An interim report fires on the first write after the interval: letting
	// the interval pass is the behaviour under test, not synchronisation.
	time.Sleep(60 * time.Millisecond)
	f.Write([]byte("second"))
	w := next(t, set, func(w *sensor.FileWrite) bool { return w.Path == path })
	if w.Reason != sensor.FileInterim || w.Bytes != 11 {
		t.Errorf("interim = reason %d bytes %d, want interim with 11", w.Reason, w.Bytes)
	}
	f.Close()

	t.Chdir(dir) // restored after the test: later tests read testdata/
	if err := os.Rename("long.log", filepath.Join(dir, "renamed.log")); err != nil {
		t.Fatal(err)
	}
	r := next(t, set, func(r *sensor.Rename) bool { return r.PID == uint32(os.Getpid()) })
	if filepath.Join(r.OldBase, r.OldName) != path || r.NewName != filepath.Join(dir, "renamed.log") {
		t.Errorf("rename = %+v", r)
	}
}

// A file that stays open and goes quiet is reported by the sweep, which
// also forgets it, bounding the kernel's table.
func TestSweepReportsIdleOpenFile(t *testing.T) {
	testkernel.RequireRoot(t)
	fs := file.New(file.Config{})
	set, err := sensor.Start([]sensor.Sensor{fs}, sensor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	path := filepath.Join(t.TempDir(), "held-open.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, 4321)); err != nil {
		t.Fatal(err)
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		t.Fatal(err)
	}
	now := time.Duration(ts.Nano())
	recent, err := fs.Sweep(now, file.IdleAfter)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recent {
		if r.Path == path {
			t.Fatalf("a file written just now was swept: %+v", r)
		}
	}
	later, err := fs.Sweep(now+file.IdleAfter+time.Second, file.IdleAfter)
	if err != nil {
		t.Fatal(err)
	}
	var got *sensor.FileWrite
	for _, r := range later {
		if r.Path == path {
			got = r
		}
	}
	if got == nil || got.Bytes != 4321 || got.Reason != sensor.FileIdle || got.WriterPID != uint32(os.Getpid()) {
		t.Fatalf("idle sweep = %+v, want 4321 bytes by pid %d", got, os.Getpid())
	}
	again, err := fs.Sweep(now+2*file.IdleAfter, file.IdleAfter)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again {
		if r.Path == path {
			t.Errorf("swept twice: %+v", r)
		}
	}
}

// A shell builtin's redirect ends with dup2 restoring stdout, which drops the
// file without close(2); the next file can reuse the freed struct file's
// address. Each file must still be reported at once, with its own path.
func TestShellBuiltinRedirects(t *testing.T) {
	set := start(t, file.Config{})
	dir := t.TempDir()
	const n = 20
	script := fmt.Sprintf("for i in $(seq %d); do echo data$i > %s/f$i; done", n, dir)
	if out, err := exec.Command("/bin/bash", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	got := map[string]uint64{}
	for len(got) < n {
		w := next(t, set, func(w *sensor.FileWrite) bool { return filepath.Dir(w.Path) == dir })
		got[filepath.Base(w.Path)] += w.Bytes
	}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("f%d", i)
		if want := uint64(len(fmt.Sprintf("data%d\n", i))); got[name] != want {
			t.Errorf("%s: %d bytes, want %d", name, got[name], want)
		}
	}
}

// The pid set as the NATS server's (co-hosted) writes and
// renames unreported; another process's writes after it are reported, and
// clearing the pid reports the first one's again.
func TestNATSServerPIDNotReported(t *testing.T) {
	set := start(t, file.Config{})
	dir := t.TempDir()
	// One process (perl, which Debian always has) that writes and renames
	// a file per line it reads, so the calls come from a pid known before
	// they happen.
	sh := exec.Command("perl", "-e", `$| = 1; while (<STDIN>) { chomp; open(my $f, ">", $_) or die; print $f "x"; close $f; `+
		`rename($_, "$_.renamed") or die; print "done\n" }`)
	sh.Dir = dir
	in, err := sh.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); sh.Wait() })
	ack := make([]byte, 5)
	write := func(name string) {
		t.Helper()
		if _, err := fmt.Fprintln(in, name); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(out, ack); err != nil {
			t.Fatal(err)
		}
	}

	if err := set.SetNATSServerPID(uint32(sh.Process.Pid)); err != nil {
		t.Fatal(err)
	}
	write("quiet")
	sentinel := filepath.Join(dir, "sentinel")
	if err := os.WriteFile(sentinel, []byte("y"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The ring buffer keeps order: the quiet file's records would come first.
	next(t, set, func(r any) bool {
		switch r := r.(type) {
		case *sensor.FileWrite:
			if filepath.Base(r.Path) == "quiet" {
				t.Errorf("write by the NATS server pid reported: %+v", r)
			}
			return r.Path == sentinel
		case *sensor.Rename:
			if filepath.Base(r.OldName) == "quiet" {
				t.Errorf("rename by the NATS server pid reported: %+v", r)
			}
		}
		return false
	})

	if err := set.SetNATSServerPID(0); err != nil {
		t.Fatal(err)
	}
	write("loud")
	w := next(t, set, func(w *sensor.FileWrite) bool { return filepath.Base(w.Path) == "loud" })
	if w.PID != uint32(sh.Process.Pid) {
		t.Errorf("loud write pid = %d, want the writer's %d", w.PID, sh.Process.Pid)
	}
}

// A burst bigger than the ring, starting while the reader sleeps a nap far
// longer than the burst, is read whole: once a quarter of the ring waits,
// records wake the reader (wake_bytes) instead of waiting out its nap.
func TestBurstWakesASleepingReader(t *testing.T) {
	testkernel.RequireRoot(t)
	const nap = 10 * time.Second
	set, err := sensor.Start([]sensor.Sensor{file.New(file.Config{})},
		sensor.Options{RingBytes: 1 << 20, Poll: nap, MaxPoll: nap})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	dir := t.TempDir()
	const files = 10000 // ~3 MB of records: three rings' worth

	got := make(chan int, 1)
	go func() {
		n := 0
		for {
			r, err := set.Read()
			if err != nil {
				break
			}
			if w, ok := r.(*sensor.FileWrite); ok && filepath.Dir(w.Path) == dir {
				n++
			}
		}
		got <- n
	}()
	// The reader's first Read finds the ring empty and starts its nap.
	time.Sleep(100 * time.Millisecond)
	for i := range files {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Every record is in the ring or counted as dropped by now.
	for name, byReason := range set.Drops() {
		for reason, n := range byReason {
			if n != 0 {
				t.Errorf("%s dropped %d records (%s): the ring filled while the reader slept", name, n, reason)
			}
		}
	}
	// Shutdown ends the reader's nap too: what is left (less than the
	// quarter of the ring that wakes it) is read at once.
	start := time.Now()
	set.Shutdown()
	select {
	case n := <-got:
		t.Logf("the rest read %v after Shutdown", time.Since(start))
		if n != files {
			t.Errorf("read %d of %d records", n, files)
		}
	case <-time.After(nap / 2):
		t.Errorf("the reader still slept %v after Shutdown", nap/2)
	}
}

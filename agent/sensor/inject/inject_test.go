package inject_test

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/file"
	"github.com/vigilhq/vigil/agent/sensor/inject"
	"github.com/vigilhq/vigil/internal/testkernel"
)

// start runs the file sensor in this process, as an agent would, and
// loads an injector into the ring FindRing finds there.
func start(t *testing.T, opts sensor.Options, prefix string) (*sensor.Set, *inject.Injector) {
	t.Helper()
	testkernel.RequireRoot(t)
	set, err := sensor.Start([]sensor.Sensor{file.New(file.Config{})}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	ring, err := inject.FindRing(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ring.Close() })
	in, err := inject.New(ring, inject.Self(prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return set, in
}

// readAll shuts the set down and returns the injected records left in its
// ring, decoded by the file sensor as the agent's reader decodes them.
func readAll(t *testing.T, set *sensor.Set, prefix string) []*sensor.FileWrite {
	t.Helper()
	if err := set.Shutdown(); err != nil {
		t.Fatal(err)
	}
	var out []*sensor.FileWrite
	for {
		r, err := set.Read()
		if errors.Is(err, sensor.ErrDrained) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if w, ok := r.(*sensor.FileWrite); ok && strings.HasPrefix(w.Path, prefix) {
			out = append(out, w)
		}
	}
}

// Injected records reach the agent's reader as file sensor records, each
// a distinct file written by this process.
func TestInjectedRecordsDecodeAsFileWrites(t *testing.T) {
	const prefix, n = "/dev/shm/vigil-inject-test/f-", 5000
	set, in := start(t, sensor.Options{}, prefix)
	if err := in.Inject(n); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, set, prefix)
	if len(got) != n {
		t.Fatalf("read %d injected records, want %d", len(got), n)
	}
	paths := map[string]bool{}
	for _, w := range got {
		paths[w.Path] = true
		if w.PID != uint32(os.Getpid()) || w.WriterPID != w.PID || w.Bytes != 4096 || !w.Created ||
			w.Reason != sensor.FileClose || w.FSType != "tmpfs" || len(w.Path) != len(prefix)+8 || w.TS == 0 {
			t.Fatalf("record %+v", w)
		}
	}
	if len(paths) != n {
		t.Errorf("%d distinct paths among %d records", len(paths), n)
	}
	if m := set.Malformed(); m != 0 {
		t.Errorf("%d malformed records", m)
	}
	offered, err := in.Offered()
	if err != nil || offered != n {
		t.Errorf("offered %d (%v), want %d", offered, err, n)
	}
}

// A ring too small for what is injected counts every record it had no room
// for, and every record offered is either read or counted, once: signals
// sent to the injecting thread interrupt its runs, which the library then
// repeats whole.
func TestFullRingCountsDrops(t *testing.T) {
	const prefix, n = "/dev/shm/vigil-inject-test/g-", 300000
	set, in := start(t, sensor.Options{RingBytes: 16 << 10}, prefix)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, tid := unix.Getpid(), unix.Gettid()
	stop := make(chan struct{})
	interrupter := make(chan struct{})
	go func() {
		defer close(interrupter)
		for {
			select {
			case <-stop:
				return
			default:
			}
			unix.Tgkill(pid, tid, unix.SIGURG) // Go's own preemption signal: harmless
			time.Sleep(100 * time.Microsecond)
		}
	}()
	err := in.Inject(n)
	close(stop)
	<-interrupter
	if err != nil {
		t.Fatal(err)
	}
	offered, err := in.Offered()
	if err != nil || offered != n {
		t.Errorf("offered %d (%v), want %d", offered, err, n)
	}
	drops, err := in.Drops()
	if err != nil {
		t.Fatal(err)
	}
	read := len(readAll(t, set, prefix))
	if drops == 0 || read == 0 || uint64(read)+drops != n {
		t.Errorf("read %d and dropped %d of %d records", read, drops, n)
	}
}

package sensor_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/file"
	"github.com/vigilhq/vigil/agent/sensor/inject"
	"github.com/vigilhq/vigil/agent/sensor/process"
	"github.com/vigilhq/vigil/internal/testkernel"
)

// vmRSS is this process's resident set in bytes.
func vmRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatalf("reading VmRSS from %q: %v", l, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// The kernel maps every page of a ring buffer mapping at mmap time, so
// the reader's mapping counts in the agent's RSS from the start: the ring
// must count once, not twice (a second copy of the data pages is how a
// wrapping record can read as one slice).
func TestRingCountsOnceInRSS(t *testing.T) {
	testkernel.RequireRoot(t)
	const ring = 64 << 20
	before := vmRSS(t)
	set, err := sensor.Start([]sensor.Sensor{process.New()},
		sensor.Options{AgentPID: uint32(os.Getpid()), RingBytes: ring})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	grew := vmRSS(t) - before
	// The program and its maps take a few MiB besides.
	if grew > ring+ring/4 {
		t.Errorf("starting a set with a %d MiB ring grew RSS by %d MiB, want at most %d", ring>>20, grew>>20, (ring+ring/4)>>20)
	}
}

// Records that wrap past the ring's end are read whole and in order: the
// reader maps the data pages once and copies a wrapping record in two
// parts. A small ring and a record size that does not divide it make the
// wrap fall at many offsets, inside the header's following data.
func TestWrappingRecordsReadWhole(t *testing.T) {
	testkernel.RequireRoot(t)
	const prefix = "/dev/shm/vigil-ring-test/odd-length-name-"
	set, err := sensor.Start([]sensor.Sensor{file.New(file.Config{})},
		sensor.Options{AgentPID: uint32(os.Getpid()), RingBytes: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	ring, err := inject.FindRing(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	defer ring.Close()
	in, err := inject.New(ring, inject.Self(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()

	const batch, rounds = 20, 150 // a batch fits in the ring; rounds wrap it often
	next := 0
	for r := range rounds {
		if err := in.Inject(batch); err != nil {
			t.Fatal(err)
		}
		for got := 0; got < batch; {
			rec, err := set.Read()
			if err != nil {
				t.Fatal(err)
			}
			w, ok := rec.(*sensor.FileWrite)
			if !ok || !strings.HasPrefix(w.Path, prefix) {
				continue
			}
			if want := fmt.Sprintf("%s%08d", prefix, next); w.Path != want || w.Bytes != 4096 || w.FSType != "tmpfs" {
				t.Fatalf("round %d: read path %q bytes %d fstype %q, want %q 4096 tmpfs", r, w.Path, w.Bytes, w.FSType, want)
			}
			next++
			got++
		}
	}
	if err := set.Shutdown(); err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := set.Read()
		if errors.Is(err, sensor.ErrDrained) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if w, ok := rec.(*sensor.FileWrite); ok && strings.HasPrefix(w.Path, prefix) {
			t.Fatalf("record %q read after every injected one", w.Path)
		}
	}
	if m := set.Malformed(); m != 0 {
		t.Errorf("%d malformed records", m)
	}
	if d, err := in.Drops(); err != nil || d != 0 {
		t.Errorf("%d records dropped (%v), the batches should fit", d, err)
	}
}

// A blocking reader (negative Poll) is woken by the kernel for a record
// as it comes, and Shutdown ends its wait on an empty ring with
// ErrDrained instead of leaving it blocked.
func TestBlockingReaderWakesAndDrains(t *testing.T) {
	testkernel.RequireRoot(t)
	set, err := sensor.Start([]sensor.Sensor{process.New()},
		sensor.Options{AgentPID: uint32(os.Getpid()), Poll: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	marker := "vigil-blocking-marker"
	done := make(chan error, 1)
	late := make(chan time.Duration, 16)
	go func() {
		for {
			r, err := set.Read()
			if err != nil {
				done <- err
				return
			}
			if ex, ok := r.(*sensor.Exec); ok && len(ex.Args) > 1 && ex.Args[len(ex.Args)-1] == marker {
				var now unix.Timespec
				unix.ClockGettime(unix.CLOCK_BOOTTIME, &now)
				late <- time.Duration(now.Nano() - int64(ex.TS))
			}
		}
	}()
	for i := range 3 {
		time.Sleep(200 * time.Millisecond) // the reader is waiting on an empty ring
		if err := exec.Command("/bin/true", marker).Run(); err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-late:
			t.Logf("exec %d read %v after it ran", i, d)
			if d > urgentBound {
				t.Errorf("exec %d read %v after it ran, want at most %v", i, d, urgentBound)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("exec %d not read within 5 s", i)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if err := set.Shutdown(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, sensor.ErrDrained) {
			t.Errorf("Read after Shutdown: %v, want ErrDrained", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read still blocked 5 s after Shutdown")
	}
}

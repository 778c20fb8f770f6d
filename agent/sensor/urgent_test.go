package sensor_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/file"
	"github.com/vigilhq/vigil/agent/sensor/process"
	"github.com/vigilhq/vigil/internal/testkernel"
)

// urgentNap is the reader's sleep in these tests: far longer than the
// bound they hold records to, so only the kernel's wakeup can meet it.
const urgentNap = 3 * time.Second

// urgentBound is how late an exec or rename may be read while the reader
// sleeps urgentNap: scheduling slack on a shared 2-core machine.
const urgentBound = 300 * time.Millisecond

// readLateness reads set's records and sends how late each one match
// accepts was read (read time minus the kernel's stamp, both
// CLOCK_BOOTTIME).
func readLateness(set *sensor.Set, match func(any) (uint64, bool)) <-chan time.Duration {
	late := make(chan time.Duration, 64)
	go func() {
		for {
			r, err := set.Read()
			if errors.Is(err, sensor.ErrClosed) {
				return
			}
			if err != nil {
				continue
			}
			if ts, ok := match(r); ok {
				var now unix.Timespec
				unix.ClockGettime(unix.CLOCK_BOOTTIME, &now)
				late <- time.Duration(now.Nano() - int64(ts))
			}
		}
	}()
	return late
}

// An exec is what host rules alert on at once (a dump tool started): the
// kernel wakes the sleeping reader for it, so it is read long before the
// reader's own sleep ends. Two execs in a row (a decoy first, then the
// real tool) are both read early: the first's wakeup does not use up the
// second's.
func TestExecWakesSleepingReader(t *testing.T) {
	testkernel.RequireRoot(t)
	set, err := sensor.Start([]sensor.Sensor{process.New()},
		sensor.Options{AgentPID: uint32(os.Getpid()), Poll: urgentNap, MaxPoll: urgentNap})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	marker := "vigil-urgent-marker"
	late := readLateness(set, func(r any) (uint64, bool) {
		ex, ok := r.(*sensor.Exec)
		if ok && len(ex.Args) > 1 && ex.Args[len(ex.Args)-1] == marker {
			return ex.TS, true
		}
		return 0, false
	})
	for i := range 4 {
		// Spread over the reader's sleep, so an exec lands at different
		// points of it.
		time.Sleep(urgentNap / 3)
		n := 1 + i%2
		for range n {
			if err := exec.Command("/bin/true", marker).Run(); err != nil {
				t.Fatal(err)
			}
		}
		for j := range n {
			select {
			case d := <-late:
				t.Logf("round %d exec %d read %v after it ran", i, j, d)
				if d > urgentBound {
					t.Errorf("round %d exec %d read %v after it ran, want at most %v (the reader sleeps %v)", i, j, d, urgentBound, urgentNap)
				}
			case <-time.After(2 * urgentNap):
				t.Fatalf("round %d exec %d not read within %v", i, j, 2*urgentNap)
			}
		}
	}
}

// A rename (the step that hides an export under an innocent name, which
// rules watch) wakes the sleeping reader like an exec.
func TestRenameWakesSleepingReader(t *testing.T) {
	testkernel.RequireRoot(t)
	set, err := sensor.Start([]sensor.Sensor{file.New(file.Config{})},
		sensor.Options{AgentPID: uint32(os.Getpid()), Poll: urgentNap, MaxPoll: urgentNap})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	dir := t.TempDir()
	from, to := filepath.Join(dir, "export.csv"), filepath.Join(dir, "vigil-urgent-notes.txt")
	late := readLateness(set, func(r any) (uint64, bool) {
		rn, ok := r.(*sensor.Rename)
		if ok && filepath.Base(rn.NewName) == filepath.Base(to) {
			return rn.TS, true
		}
		return 0, false
	})
	for i := range 3 {
		time.Sleep(urgentNap / 3)
		if err := os.WriteFile(from, []byte("a,b\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		// The rename runs in a child: the test process is the agent,
		// whose own activity the sensors skip.
		if err := exec.Command("/bin/mv", from, to).Run(); err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-late:
			t.Logf("rename %d read %v after it ran", i, d)
			if d > urgentBound {
				t.Errorf("rename %d read %v after it ran, want at most %v (the reader sleeps %v)", i, d, urgentBound, urgentNap)
			}
		case <-time.After(2 * urgentNap):
			t.Fatalf("rename %d not read within %v", i, 2*urgentNap)
		}
	}
}

package sensor_test

import (
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/process"
	"github.com/vigilhq/vigil/internal/testkernel"
)

// After the ring has been idle long enough for Read to sleep its longest,
// a record is still read at most MaxPoll (plus scheduling slack) after the
// kernel wrote it: the bound a host alert's latency relies on.
func TestIdleReaderReadsWithinMaxPoll(t *testing.T) {
	testkernel.RequireRoot(t)
	set, err := sensor.Start([]sensor.Sensor{process.New()}, sensor.Options{AgentPID: uint32(os.Getpid())})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()

	// lateness of each marker exec: read time minus the kernel's
	// timestamp, both CLOCK_BOOTTIME.
	late := make(chan time.Duration, 16)
	marker := "vigil-poll-marker"
	go func() {
		for {
			r, err := set.Read()
			if errors.Is(err, sensor.ErrClosed) {
				return
			}
			if err != nil {
				continue
			}
			if ex, ok := r.(*sensor.Exec); ok && len(ex.Args) > 1 && ex.Args[len(ex.Args)-1] == marker {
				var now unix.Timespec
				unix.ClockGettime(unix.CLOCK_BOOTTIME, &now)
				late <- time.Duration(now.Nano() - int64(ex.TS))
			}
		}
	}()

	const slack = 150 * time.Millisecond
	for i := range 5 {
		// Idle long enough for the sleep to grow from Poll to MaxPoll.
		time.Sleep(4 * sensor.DefaultMaxPoll)
		if err := exec.Command("/bin/true", marker).Run(); err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-late:
			if d > sensor.DefaultMaxPoll+slack {
				t.Errorf("exec %d read %v after it ran, want at most %v + %v", i, d, sensor.DefaultMaxPoll, slack)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("exec %d not read within 5 s", i)
		}
	}
}

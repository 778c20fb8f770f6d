package sensor_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/file"
	netsensor "github.com/vigilhq/vigil/agent/sensor/net"
	"github.com/vigilhq/vigil/agent/sensor/process"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// readAll reads set's records until it closes, keeping those of pids
// other than the test's own children it did not start itself.
type readAll struct {
	mu   sync.Mutex
	recs []any
	done chan struct{}
}

func startReading(t *testing.T, set *sensor.Set) *readAll {
	r := &readAll{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			rec, err := set.Read()
			if err != nil {
				if !errors.Is(err, sensor.ErrClosed) && !errors.Is(err, sensor.ErrDrained) {
					t.Errorf("reading: %v", err)
				}
				return
			}
			r.mu.Lock()
			r.recs = append(r.recs, rec)
			r.mu.Unlock()
		}
	}()
	return r
}

// leaked returns the canary's records that reached the reader.
func (r *readAll) leaked(dir string) []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []any
	for _, rec := range r.recs {
		switch x := rec.(type) {
		case *sensor.FileWrite:
			if strings.HasPrefix(x.Path, dir) {
				out = append(out, x)
			}
		case *sensor.Exec:
			if strings.Contains(strings.Join(x.Args, " "), "vigil-selfcheck") {
				out = append(out, x)
			}
		}
	}
	return out
}

// The canary's exec and write come through the ring and reach no reader;
// once a root user adds the canary's file system to the file sensor's
// skip_magics map (a filter map rewritten: the programs stay attached and
// keep running, but report nothing on it), the canary names the file path.
func TestCanaryFindsBlindedFileSensor(t *testing.T) {
	testkernel.RequireRoot(t)
	fs := file.New(file.Config{SkipPrefixes: file.DefaultSkipPrefixes, SkipFSMagics: file.DefaultSkipFSMagics})
	set, err := sensor.Start([]sensor.Sensor{process.New(), fs}, sensor.Options{AgentPID: uint32(os.Getpid())})
	if err != nil {
		t.Fatal(err)
	}
	r := startReading(t, set)
	defer func() { set.Close(); <-r.done }()
	dir := t.TempDir()
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	for i := range 3 {
		if got := set.Canary(dir, sensor.CanaryWait); got != nil {
			t.Fatalf("canary %d on untouched sensors found %q", i, got)
		}
	}
	if l := r.leaked(dir); len(l) != 0 {
		t.Fatalf("the canary's records reached the reader: %+v", l)
	}

	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if err := fs.Coll.Maps["skip_magics"].Update(uint32(st.Type), uint8(1), ebpf.UpdateAny); err != nil {
		t.Fatalf("tampering with skip_magics: %v", err)
	}
	got := set.Canary(dir, sensor.CanaryWait)
	want := "file: the canary's write to " + filepath.Join(dir, "canary") + " did not come through the ring"
	if len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Fatalf("canary after skip_magics was rewritten found %q, want only %q", got, want)
	}
	if err := set.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if got := set.Canary(dir, sensor.CanaryWait); got != nil {
		t.Fatalf("after Shutdown the canary found %q", got)
	}
}

// BenchmarkCanary measures one heartbeat's canary, with the process and
// file sensors running and with the net sensor beside them (its datagram
// and read-back being the difference): its wall time (how long it holds
// the heartbeat) and the CPU it costs the host, the agent's and its
// child's together (docs/benchmarks.md, "Why the defaults are what they
// are").
func BenchmarkCanary(b *testing.B) {
	testkernel.RequireRoot(b)
	for _, withNet := range []bool{false, true} {
		name := "process+file"
		if withNet {
			name += "+net"
		}
		b.Run(name, func(b *testing.B) { benchCanary(b, withNet) })
	}
}

func benchCanary(b *testing.B, withNet bool) {
	sensors := []sensor.Sensor{process.New(), file.New(file.Config{SkipPrefixes: file.DefaultSkipPrefixes,
		SkipFSMagics: file.DefaultSkipFSMagics})}
	if withNet {
		sensors = append(sensors, netsensor.New(netsensor.Config{}))
	}
	set, err := sensor.Start(sensors, sensor.Options{AgentPID: uint32(os.Getpid())})
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		for {
			if _, err := set.Read(); err != nil {
				return
			}
		}
	}()
	defer set.Close()
	dir := b.TempDir()
	cpu := func() time.Duration { return testproc.CPUTime() + testproc.ChildrenCPUTime() }
	before := cpu()
	b.ResetTimer()
	for b.Loop() {
		if got := set.Canary(dir, sensor.CanaryWait); got != nil {
			b.Fatalf("canary found %q", got)
		}
	}
	b.ReportMetric(float64((cpu()-before).Microseconds())/float64(b.N), "cpu-µs/op")
}

package process_test

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/process"
	"github.com/vigilhq/vigil/internal/testkernel"
)

var update = flag.Bool("update", false, "rewrite the recorded samples in testdata/")

// record saves a raw ring record for the decoding tests, with -update.
func record(t *testing.T, name string, raw []byte) {
	t.Helper()
	if !*update {
		return
	}
	if err := os.WriteFile(filepath.Join("testdata", name), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A recorded exec of "/bin/sh -c 'exit 3' vigil-marker-arg" decodes
// without a kernel.
func TestDecodeRecordedExec(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "exec.bin"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := process.Decode(sensor.RecExec, raw)
	if err != nil {
		t.Fatal(err)
	}
	ex := r.(*sensor.Exec)
	if ex.Filename != "/bin/sh" || ex.Comm != "sh" || !slices.Equal(ex.Args, []string{"/bin/sh", "-c", "exit 3", "vigil-marker-arg"}) || ex.PID == 0 || ex.PPID == 0 {
		t.Errorf("decoded %+v", ex)
	}
	if _, err := process.Decode(sensor.RecExec, raw[:100]); err == nil {
		t.Error("a short record decoded")
	}
	if _, err := process.Decode(99, raw); err == nil {
		t.Error("an unknown type decoded")
	}
}

func TestExecForkExit(t *testing.T) {
	testkernel.RequireRoot(t)
	set, err := sensor.Start([]sensor.Sensor{process.New()}, sensor.Options{AgentPID: uint32(os.Getpid())})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()

	cmd := exec.Command("/bin/sh", "-c", "exit 3", "vigil-marker-arg")
	if err := cmd.Run(); err == nil {
		t.Fatal("want exit status 3")
	}
	pid := uint32(cmd.Process.Pid)

	var sawFork, sawExec, sawExit bool
	deadline := time.AfterFunc(10*time.Second, func() { set.Close() })
	defer deadline.Stop()
	for !(sawFork && sawExec && sawExit) {
		r, err := set.Read()
		if errors.Is(err, sensor.ErrClosed) {
			t.Fatalf("timed out: fork=%v exec=%v exit=%v", sawFork, sawExec, sawExit)
		}
		if err != nil {
			t.Fatal(err)
		}
		switch r := r.(type) {
		case *sensor.Fork:
			if r.PID == pid {
				sawFork = true
				if r.PPID != uint32(os.Getpid()) {
					t.Errorf("fork ppid = %d, want %d", r.PPID, os.Getpid())
				}
			}
		case *sensor.Exec:
			if r.PID == pid {
				sawExec = true
				record(t, "exec.bin", set.Raw())
				if r.Filename != "/bin/sh" || !slices.Contains(r.Args, "vigil-marker-arg") || r.Comm != "sh" {
					t.Errorf("exec = %+v", r)
				}
				if r.UID != uint32(os.Getuid()) {
					t.Errorf("uid = %d", r.UID)
				}
			}
		case *sensor.Exit:
			if r.PID == pid {
				sawExit = true
				if r.ExitCode>>8 != 3 {
					t.Errorf("exit code = %#x, want status 3", r.ExitCode)
				}
			}
		}
	}
	drops := set.Drops()["process"]
	if drops["ringbuf_full"] != 0 {
		t.Errorf("drops = %v", drops)
	}
}

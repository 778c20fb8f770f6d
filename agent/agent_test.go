package agent_test

import (
	"context"
	"errors"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/file"
	"github.com/vigilhq/vigil/agent/sensor/process"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testkernel"
)

// chanSink hands every event to the test.
type chanSink chan *event.Event

func (c chanSink) Publish(ev *event.Event) error { c <- ev; return nil }

// startAgent runs a real agent with opts until the test ends and returns
// once every sensor is attached; stop ends it early (and waits until every
// record already read is processed). Tests that load eBPF programs need root.
func startAgent(t *testing.T, opts agent.Options) (stop func()) {
	t.Helper()
	testkernel.RequireRoot(t)
	if opts.Identity.AgentID == "" {
		opts.Identity = agent.Identity{Site: "test-site", Host: "test-host", AgentID: "ag-test"}
	}
	started := make(chan []sensor.Status, 1)
	opts.Started = func(s []sensor.Status) { started <- s }
	a := agent.New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- a.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("agent: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case st := <-started:
		for _, s := range st {
			if !s.Running {
				t.Fatalf("sensor %s: %s", s.Name, s.Error)
			}
		}
	case err := <-errc:
		t.Fatal(err)
	}
	return stop
}

// runAgent starts a real agent with the process and file sensors and returns
// its events once the sensors are attached.
func runAgent(t *testing.T) chanSink {
	t.Helper()
	sink := make(chanSink, 1<<16)
	startAgent(t, agent.Options{
		Sensors: []sensor.Sensor{process.New(), file.New(file.Config{
			SkipPrefixes: file.DefaultSkipPrefixes, SkipFSMagics: file.DefaultSkipFSMagics})},
		Sink: sink,
	})
	return sink
}

// await returns the first event match accepts, checking seq has no gaps.
func await(t *testing.T, sink chanSink, what string, match func(*event.Event) bool) *event.Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-sink:
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event within 20 s", what)
		}
	}
}

// The agent runs in this test binary, so the writer is a child process:
// the agent ignores its own pid.
func TestAgentReportsExactBytesWritten(t *testing.T) {
	sink := runAgent(t)
	path := filepath.Join(t.TempDir(), "customers.csv")
	// A real tool writes 3 MiB in 48 write(2) calls (the file sensor's own
	// test covers pwrite64 and the other write calls).
	cmd := exec.Command("dd", "if=/dev/zero", "of="+path, "bs=65536", "count=48", "status=none")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	ev := await(t, sink, "file.write", func(ev *event.Event) bool {
		return ev.Kind == event.KindFileWrite && ev.File.Path == path
	})
	if ev.File.Bytes != 3145728 {
		t.Errorf("bytes = %d, want 3145728", ev.File.Bytes)
	}
	if ev.Process.PID != uint32(cmd.Process.Pid) || ev.Process.Comm != "dd" {
		t.Errorf("process = %+v, want dd pid %d", ev.Process, cmd.Process.Pid)
	}
	if ev.Site != "test-site" || ev.AgentID != "ag-test" || ev.BootID == "" || ev.ID != event.MakeID(ev.BootID, ev.Seq) {
		t.Errorf("identity fields: %+v", ev)
	}
	if ev.File.Mount == "" || ev.File.FSType == "" {
		t.Errorf("mount %q fstype %q", ev.File.Mount, ev.File.FSType)
	}
}

func TestSeqHasNoGaps(t *testing.T) {
	sink := runAgent(t)
	for i := 0; i < 20; i++ {
		if err := exec.Command("/bin/true").Run(); err != nil {
			t.Fatal(err)
		}
	}
	var last uint64
	for n := 0; n < 40; n++ {
		ev := await(t, sink, "any", func(*event.Event) bool { return true })
		if last != 0 && ev.Seq != last+1 {
			t.Fatalf("seq %d after %d", ev.Seq, last)
		}
		last = ev.Seq
	}
}

// sudo -u changes the user a process runs as; the login user (audit
// loginuid) stays the person who logged in.
func TestSudoKeepsLoginUser(t *testing.T) {
	sink := runAgent(t)
	if _, err := exec.LookPath("sudo"); err != nil {
		testenv.Skip(t, "sudo is not installed (.ci/run installs it)")
	}
	person := ensureUser(t, "vigil-person")
	service := ensureUser(t, "vigil-svc")
	marker := "vigil-sudo-marker-" + strings.ReplaceAll(t.Name(), "/", "-")
	// Set the loginuid as a login would (pam_loginuid), then sudo to the service account.
	script := "echo " + person.Uid + " > /proc/self/loginuid && exec sudo -u " + service.Username + " /bin/sh -c 'exec /bin/echo " + marker + "'"
	out, err := exec.Command("/bin/sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	ev := await(t, sink, "process.exec of echo", func(ev *event.Event) bool {
		return ev.Kind == event.KindProcessExec && ev.Process.Exe == "/bin/echo" && strings.Contains(ev.Process.Cmdline, marker)
	})
	if ev.Process.User != service.Username {
		t.Errorf("user = %q, want %q", ev.Process.User, service.Username)
	}
	if ev.Process.LoginUser != person.Username || ev.Process.Person() != person.Username {
		t.Errorf("login user = %q (loginuid %d), want %q", ev.Process.LoginUser, ev.Process.LoginUID, person.Username)
	}
}

func ensureUser(t *testing.T, name string) *user.User {
	t.Helper()
	if u, err := user.Lookup(name); err == nil {
		return u
	}
	if out, err := exec.Command("useradd", "--system", "--no-create-home", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd %s: %v: %s", name, err, out)
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// What Started does (the TLS scan and the capability drop take seconds on
// a busy host) does not hold the sensors' records unread in the ring.
func TestRecordsAreReadWhileStartedRuns(t *testing.T) {
	testkernel.RequireRoot(t)
	sink := make(chanSink, 1<<16)
	seen := make(chan error, 1)
	a := agent.New(agent.Options{
		Identity: agent.Identity{Site: "test-site", Host: "test-host", AgentID: "ag-test"},
		Sensors:  []sensor.Sensor{process.New()},
		Sink:     sink,
		Started: func([]sensor.Status) {
			cmd := exec.Command("/bin/true")
			if err := cmd.Run(); err != nil {
				seen <- err
				return
			}
			timeout := time.After(10 * time.Second)
			for {
				select {
				case ev := <-sink:
					if ev.Kind == event.KindProcessExec && ev.Process.PID == uint32(cmd.Process.Pid) {
						seen <- nil
						return
					}
				case <-timeout:
					seen <- errors.New("the exec run from Started was not read while Started ran")
					return
				}
			}
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("agent: %v", err)
		}
	}()
	select {
	case err := <-seen:
		if err != nil {
			t.Fatal(err)
		}
	case err := <-errc:
		t.Fatalf("agent stopped: %v", err)
	}
}

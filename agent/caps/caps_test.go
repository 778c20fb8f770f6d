package caps

import (
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
	"kernel.org/pub/linux/libs/security/libcap/cap"

	"github.com/vigilhq/vigil/internal/testenv"
)

const statusFull = `Name:	vigil-agent
Umask:	0022
State:	S (sleeping)
Uid:	0	0	0	0
CapInh:	0000000000000000
CapPrm:	000001ffffffffff
CapEff:	000001ffffffffff
CapBnd:	000001ffffffffff
CapAmb:	0000000000000000
NoNewPrivs:	0
Seccomp:	0
`

const statusDropped = `Name:	vigil-agent
CapInh:	0000000000000000
CapPrm:	0000000000080004
CapEff:	0000000000080004
CapBnd:	000001ffffffffff
CapAmb:	0000000000000000
NoNewPrivs:	1
`

func runMask() uint64 {
	var m uint64
	for _, v := range Values(Run) {
		m |= 1 << uint(v)
	}
	return m
}

func TestParseStatus(t *testing.T) {
	st, err := ParseStatus([]byte(statusFull))
	if err != nil {
		t.Fatal(err)
	}
	if st.Permitted != 0x1ffffffffff || st.NoNewPrivs || st.Ambient != 0 {
		t.Fatalf("parsed %+v", st)
	}
	if err := st.Within(runMask(), false); err == nil || !strings.Contains(err.Error(), "CAP_SYS_ADMIN") || !strings.Contains(err.Error(), "no_new_privs is off") {
		t.Fatalf("full set within Run: %v", err)
	}

	st, err = ParseStatus([]byte(statusDropped))
	if err != nil {
		t.Fatal(err)
	}
	if got := Names(st.Effective); got != "CAP_DAC_READ_SEARCH,CAP_SYS_PTRACE" {
		t.Fatalf("effective = %s", got)
	}
	if err := st.Within(runMask(), false); err != nil {
		t.Fatalf("dropped set: %v", err)
	}
	// The bounding set counts only when the caller could drop it.
	if err := st.Within(runMask(), true); err == nil || !strings.Contains(err.Error(), "bounding holds") {
		t.Fatalf("bounding not checked: %v", err)
	}
}

func TestParseStatusBroken(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"no nnp":      "CapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\nCapAmb:\t0\n",
		"bad hex":     strings.Replace(statusDropped, "0000000000080004", "zz", 1),
		"missing eff": strings.Replace(statusDropped, "CapEff", "CapXxx", 1),
	} {
		if _, err := ParseStatus([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestNeedsDocumented(t *testing.T) {
	seen := map[cap.Value]bool{}
	for _, n := range append(append([]Need{}, Attach...), Run...) {
		if n.Why == "" || !strings.HasPrefix(n.Name(), "CAP_") {
			t.Errorf("%v: name %q, why %q", n.Cap, n.Name(), n.Why)
		}
		if seen[n.Cap] {
			t.Errorf("%s listed twice", n.Name())
		}
		seen[n.Cap] = true
	}
	for _, n := range Run {
		if n.Cap == cap.SYS_ADMIN || n.Cap == cap.BPF {
			t.Errorf("%s kept after start", n.Name())
		}
	}
}

// TestVerifyRefusesFullSet checks that a process holding more than it may
// is caught, which is what makes the agent refuse to run on.
func TestVerifyRefusesFullSet(t *testing.T) {
	have, _ := cap.GetProc().GetFlag(cap.Effective, cap.SYS_ADMIN)
	if !have {
		testenv.Skip(t, "needs CAP_SYS_ADMIN in the test process (run as root) to see a set that is too large")
	}
	if err := Verify(runMask(), false); !errors.Is(err, ErrNotDropped) {
		t.Fatalf("Verify on a full set = %v, want ErrNotDropped", err)
	}
}

// Dropping is irreversible, so it runs in a child copy of the test binary.
const childEnv = "VIGIL_CAPS_TEST_CHILD"

func TestDropInChild(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		dropChild(t)
		return
	}
	c := cap.GetProc()
	for _, v := range []cap.Value{cap.SETPCAP, cap.SYS_PTRACE, cap.DAC_READ_SEARCH, cap.BPF} {
		if ok, _ := c.GetFlag(cap.Effective, v); !ok {
			testenv.Skipf(t, "needs %s (run as root with a full capability set)", strings.ToUpper(v.String()))
		}
	}
	runChild := func(t *testing.T, argv ...string) {
		argv = append(argv, os.Args[0], "-test.run=^TestDropInChild$", "-test.v")
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), childEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "child dropped") {
			t.Fatalf("child: %v\n%s", err, out)
		}
		t.Logf("child:\n%s", out)
	}
	t.Run("full set", func(t *testing.T) { runChild(t) })
	// As under the systemd unit: only the unit's bounding set and no
	// CAP_SETPCAP, so the bounding set stays and no_new_privs bounds it.
	t.Run("unit set", func(t *testing.T) {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			testenv.Skip(t, "needs setpriv (util-linux) to start the child with the unit's capabilities")
		}
		runChild(t, setpriv, "--inh-caps=-all", "--bounding-set=-all,+bpf,+perfmon,+net_admin,+sys_admin,+sys_ptrace,+dac_read_search", "--")
	})
}

func dropChild(t *testing.T) {
	// Start threads that stay alive and locked, so that a drop done on one
	// thread only would be seen.
	var wg sync.WaitGroup
	release := make(chan struct{})
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			<-release
		}()
	}
	defer func() { close(release); wg.Wait() }()

	setpcap, _ := cap.GetProc().GetFlag(cap.Effective, cap.SETPCAP)
	// The agent's hook first: it must log and not exit.
	var logged strings.Builder
	exit = func(code int) { t.Fatalf("DropOrExit exited %d: %s", code, logged.String()) }
	DropOrExit(slog.New(slog.NewTextHandler(&logged, nil)), false)
	if !strings.Contains(logged.String(), "kept=CAP_SYS_PTRACE,CAP_DAC_READ_SEARCH") {
		t.Fatalf("DropOrExit logged %q", logged.String())
	}
	// Dropping again to what is already held succeeds and says so.
	res, err := DropAfterStart(false)
	if err != nil {
		t.Fatalf("DropAfterStart: %v", err)
	}
	// CAP_SETPCAP went with the first drop, so the bounding set is left
	// as the first drop made it; Verify below checks that.
	if res.BoundingDropped || strings.Join(res.Kept, ",") != "CAP_SYS_PTRACE,CAP_DAC_READ_SEARCH" || len(res.Missing) != 0 {
		t.Fatalf("result %+v", res)
	}
	// Every thread, including ones started after the drop.
	go func() { runtime.LockOSThread(); <-release }()
	if err := Verify(runMask(), setpcap); err != nil {
		t.Fatal(err)
	}
	// What loading takes is gone: a BPF map cannot be created.
	attr := []byte{2, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0} // BPF_MAP_TYPE_ARRAY, key 4, value 4, 1 entry
	_, _, errno := unix.Syscall(unix.SYS_BPF, 0 /* BPF_MAP_CREATE */, uintptr(unsafe.Pointer(&attr[0])), uintptr(len(attr)))
	if errno != unix.EPERM {
		t.Fatalf("bpf(BPF_MAP_CREATE) after drop: errno %v, want EPERM", errno)
	}
	// It cannot be raised again.
	s := cap.GetProc()
	_ = s.SetFlag(cap.Effective, true, cap.BPF)
	_ = s.SetFlag(cap.Permitted, true, cap.BPF)
	if err := s.SetProc(); err == nil {
		t.Fatal("CAP_BPF could be raised again")
	}
	// A program it runs gains nothing, although it runs as root.
	out, err := exec.Command("/bin/cat", "/proc/self/status").Output()
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseStatus(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Within(runMask(), setpcap); err != nil {
		t.Fatalf("child program after drop: %v", err)
	}
	t.Log("child dropped to", res.Kept, "bounding set dropped:", res.BoundingDropped)
}

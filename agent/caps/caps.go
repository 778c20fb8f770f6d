package caps

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"kernel.org/pub/linux/libs/security/libcap/cap"
)

// Need is one capability the agent holds and why.
type Need struct {
	Cap cap.Value
	Why string
}

// Name is the capability as systemd and capsh spell it, e.g. CAP_BPF.
func (n Need) Name() string { return strings.ToUpper(n.Cap.String()) }

// Attach is what loading and attaching the sensors takes: the agent unit's
// CapabilityBoundingSet is Attach plus Run. Nothing else is needed on
// kernels from 5.11 on (CAP_SYS_RESOURCE is not: see CAP_BPF).
var Attach = []Need{
	{cap.BPF, "create maps, load programs, read BTF (bpf(2)); also tells cilium/ebpf that memory is charged to the cgroup, so no memlock rlimit change (CAP_SYS_RESOURCE) is needed"},
	{cap.PERFMON, "load tracing programs (tracepoint, tp_btf, uprobe), use bpf_probe_read_user and bpf_get_current_task_btf, open tracepoint and uprobe perf events"},
	{cap.NET_ADMIN, "load and attach cgroup_skb, cgroup/connect4 and sockops programs to the root cgroup (the net sensor; without it: create link: operation not permitted)"},
	UprobeAttach,
}

// UprobeAttach is what attaching a uprobe takes on kernel 6.18: the
// perf_uprobe PMU answers EACCES with CAP_PERFMON alone. The db sensor needs
// it for libssl at start, and later for every TLS library or Go program it
// finds mapped by a process (conda, bundled clients): the attacher process
// keeps it for that (Attacher). Tracepoints, tp_btf and cgroup programs do
// not need it.
var UprobeAttach = Need{cap.SYS_ADMIN, "attach uprobes (db sensor: libpq, libssl): perf_event_open of the perf_uprobe PMU is refused without it on 6.18"}

// Attacher is what the uprobe attacher process keeps (the agent
// re-executed to attach TLS probes to libraries loaded after start, see
// agent/sensor/db RunAttacher), so that the agent itself can drop
// UprobeAttach: that capability then sits in a process that parses no
// traffic and takes only open file descriptors from the agent. Measured on
// 6.18: every other capability of the unit (CAP_PERFMON and CAP_BPF
// included) without CAP_SYS_ADMIN is refused ("opening perf event:
// permission denied"); CAP_SYS_ADMIN alone attaches (it also passes the
// bpf() checks CAP_BPF would).
var Attacher = []Need{UprobeAttach}

// DropForAttacher leaves the attacher process with Attacher alone.
func DropForAttacher() error {
	_, err := Drop(Values(Attacher)...)
	return err
}

// Run is what the running agent keeps after Drop.
var Run = []Need{
	{cap.SYS_PTRACE, "read /proc/<pid>/exe, cwd and root of processes whose capabilities exceed the agent's own or that belong to other users (ptrace access mode read)"},
	{cap.DAC_READ_SEARCH, "list /proc/<pid>/fd and read /proc/<pid>/environ of other users' processes (mode 0400/0500 owned by that user), and reach their libraries through /proc/<pid>/root for uprobes"},
}

// Values returns the capabilities of needs.
func Values(needs ...[]Need) []cap.Value {
	var out []cap.Value
	for _, ns := range needs {
		for _, n := range ns {
			out = append(out, n.Cap)
		}
	}
	return out
}

// ErrNotDropped means the process still holds a capability it asked to
// lose; the agent must not run on.
var ErrNotDropped = errors.New("capabilities not dropped")

// Result says what Drop did.
type Result struct {
	// Kept are the capabilities still effective.
	Kept []string
	// Missing were asked to be kept but were not held to begin with.
	Missing []string
	// BoundingDropped says whether the bounding set was reduced too. That
	// takes CAP_SETPCAP, which the systemd unit does not grant: there the
	// unit's CapabilityBoundingSet and NoNewPrivileges already bound it.
	BoundingDropped bool
}

// DropAfterStart drops everything but Run, and keeps UprobeAttach too when
// keepUprobeAttach is set (the agent then attaches uprobes itself instead of
// through its attacher process): CAP_SYS_ADMIN is most of root, held by a
// process that parses untrusted database traffic. The agent calls
// DropAfterStart once its sensors are attached (and its attacher runs) and
// must stop if it returns an error.
func DropAfterStart(keepUprobeAttach bool) (Result, error) {
	keep := Values(Run)
	if keepUprobeAttach {
		keep = append(keep, UprobeAttach.Cap)
	}
	return Drop(keep...)
}

// Drop leaves the process with at most keep in its permitted and effective
// sets and nothing inheritable or ambient, on every thread, and sets
// no_new_privs so that no program it runs can regain any. When it holds
// CAP_SETPCAP it also drops everything but keep from the bounding set. It
// checks the outcome on every thread and returns an error wrapping
// ErrNotDropped if any thread holds more.
func Drop(keep ...cap.Value) (Result, error) {
	var res Result
	want := make(map[cap.Value]bool, len(keep))
	for _, v := range keep {
		want[v] = true
	}
	cur := cap.GetProc()

	// no_new_privs is per thread too: Prctlw sets it on all of them.
	if _, err := cap.Prctlw(prSetNoNewPrivs, 1, 0, 0, 0); err != nil {
		return res, fmt.Errorf("setting no_new_privs: %w", err)
	}

	if setpcap, _ := cur.GetFlag(cap.Effective, cap.SETPCAP); setpcap {
		for v := cap.Value(0); v < cap.MaxBits(); v++ {
			if want[v] {
				continue
			}
			if in, err := cap.GetBound(v); err == nil && in {
				if err := cap.DropBound(v); err != nil {
					return res, fmt.Errorf("dropping %s from the bounding set: %w", v, err)
				}
			}
		}
		res.BoundingDropped = true
	}

	next := cap.NewSet()
	for _, v := range keep {
		held, err := cur.GetFlag(cap.Permitted, v)
		if err != nil {
			return res, fmt.Errorf("reading capability %d: %w", v, err)
		}
		if !held {
			res.Missing = append(res.Missing, strings.ToUpper(v.String()))
			continue
		}
		if err := next.SetFlag(cap.Permitted, true, v); err != nil {
			return res, err
		}
		if err := next.SetFlag(cap.Effective, true, v); err != nil {
			return res, err
		}
		res.Kept = append(res.Kept, strings.ToUpper(v.String()))
	}
	if err := next.SetProc(); err != nil {
		return res, fmt.Errorf("setting capabilities to %v: %w", res.Kept, err)
	}
	// Clearing the inheritable set already empties the ambient set; say so
	// explicitly in case a kernel keeps it.
	if err := cap.ResetAmbient(); err != nil {
		return res, fmt.Errorf("clearing ambient capabilities: %w", err)
	}
	var mask uint64
	for _, v := range keep {
		mask |= 1 << uint(v)
	}
	if err := Verify(mask, res.BoundingDropped); err != nil {
		return res, err
	}
	return res, nil
}

const prSetNoNewPrivs = 38 // PR_SET_NO_NEW_PRIVS from linux/prctl.h

// Verify reads the status of every thread of this process and returns an
// error wrapping ErrNotDropped if any permitted or effective capability lies
// outside allowed, any inheritable or ambient one is left, no_new_privs is
// off, or (when bounding) the bounding set holds more than allowed.
func Verify(allowed uint64, bounding bool) error {
	tasks, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil || len(tasks) == 0 {
		return fmt.Errorf("%w: listing threads in /proc/self/task: %v", ErrNotDropped, err)
	}
	for _, path := range tasks {
		b, err := os.ReadFile(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // the thread ended
			}
			return fmt.Errorf("%w: reading %s: %v", ErrNotDropped, path, err)
		}
		st, err := ParseStatus(b)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrNotDropped, path, err)
		}
		if err := st.Within(allowed, bounding); err != nil {
			return fmt.Errorf("%w: thread %s: %v", ErrNotDropped, filepath.Base(filepath.Dir(path)), err)
		}
	}
	return nil
}

// exit is os.Exit, replaced in tests.
var exit = os.Exit

// DropOrExit is DropAfterStart for the agent's Options.Started hook: it logs
// what was kept, or logs why the drop failed and exits with status 1 (the
// kernel detaches every probe as the process ends; systemd's
// Restart=on-failure and start limits take over).
func DropOrExit(log *slog.Logger, keepUprobeAttach bool) {
	res, err := DropAfterStart(keepUprobeAttach)
	if err != nil {
		log.Error("refusing to run on with capabilities it no longer needs", "err", err)
		exit(1)
		return
	}
	log.Info("capabilities dropped", "kept", strings.Join(res.Kept, ","),
		"not_held", strings.Join(res.Missing, ","), "bounding_set_dropped", res.BoundingDropped)
}

package sensor

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// Record types, as enum rec_type in bpf/events.h.
const (
	RecExec       = 1
	RecExit       = 2
	RecFork       = 3
	RecFileWrite  = 4
	RecFileRename = 5
	RecTCP        = 6
	RecDNS        = 7
	RecDNSQuery   = 16
)

// Drop reasons, as enum drop_reason in bpf/events.h.
var dropReasons = []string{"ringbuf_full", "map_full"}

// Env is what a sensor gets to start with.
type Env struct {
	// Events is the shared ring buffer every sensor writes to. Sensors pass it
	// to their collection as a map replacement for their "events" map.
	Events *ebpf.Map
	// AgentPID is the agent's own pid, whose activity sensors ignore.
	AgentPID uint32
	// NATSServer holds, at key 0, the pid of the NATS server the agent
	// publishes to when it runs on this host, whose activity sensors also
	// ignore (0: none). Sensors pass it as a map replacement for their
	// "nats_server_pid" map; Set.SetNATSServerPID writes it.
	NATSServer *ebpf.Map
	// NoWakeup submits records without waking the reader, which polls.
	NoWakeup bool
	// WakeBytes, with NoWakeup, wakes the reader anyway once this many
	// bytes wait in the ring (0: never).
	WakeBytes uint32
}

// Prepare readies a sensor's collection spec to share env: it points the
// spec's "events" map at the shared ring buffer and sets agent_pid.
func (env Env) Prepare(spec *ebpf.CollectionSpec) (*ebpf.CollectionOptions, error) {
	if m, ok := spec.Maps["events"]; ok {
		m.MaxEntries = env.Events.MaxEntries()
	}
	if v, ok := spec.Variables["agent_pid"]; ok {
		if err := v.Set(env.AgentPID); err != nil {
			return nil, fmt.Errorf("setting agent pid: %w", err)
		}
	}
	if v, ok := spec.Variables["no_wakeup"]; ok && env.NoWakeup {
		if err := v.Set(uint8(1)); err != nil {
			return nil, fmt.Errorf("setting no_wakeup: %w", err)
		}
		if v, ok := spec.Variables["wake_bytes"]; ok {
			if err := v.Set(env.WakeBytes); err != nil {
				return nil, fmt.Errorf("setting wake_bytes: %w", err)
			}
		}
	}
	repl := map[string]*ebpf.Map{"events": env.Events}
	if _, ok := spec.Maps["nats_server_pid"]; ok && env.NATSServer != nil {
		repl["nats_server_pid"] = env.NATSServer
	}
	return &ebpf.CollectionOptions{MapReplacements: repl}, nil
}

// Sensor is one group of eBPF programs watching one kind of activity.
type Sensor interface {
	Name() string
	// Start loads the programs with env's ring buffer and attaches them.
	// On error nothing of the sensor stays loaded.
	Start(env Env) error
	// Types lists the record types the sensor produces.
	Types() []uint32
	// Decode turns one raw record of one of its types into a Go record.
	Decode(typ uint32, raw []byte) (any, error)
	// Drops returns the records the kernel side could not submit, by reason,
	// summed over CPUs since Start.
	Drops() (map[string]uint64, error)
	Close() error
}

// Status says whether a sensor runs, and why not.
type Status struct {
	Name    string `json:"name"`
	Running bool   `json:"running"`
	Error   string `json:"error,omitempty"`
	// Build is which of a sensor's two builds runs, "default" or
	// "compat" (see Builds); empty for sensors with one.
	Build string `json:"build,omitempty"`
}

// Set is the sensors that started and the reader of their ring buffer.
type Set struct {
	events  *ebpf.Map
	natsPID *ebpf.Map
	// natsPIDSet is what SetNATSServerPID last wrote to natsPID, for the
	// canary to read back.
	natsPIDSet atomic.Uint32
	// natsMu keeps the canary's read-back from falling between the map's
	// update and natsPIDSet's.
	natsMu  sync.Mutex
	reader  *ringReader
	raw     []byte // Read's buffer, reused
	poll    time.Duration
	maxPoll time.Duration
	// ring is the ring buffer in Go's poller, for sleep (nil: not
	// pollable), with its raw conn and the readiness check sleep waits
	// on; wakeBytes is what the kernel wakes it at.
	ring      *os.File
	ringConn  syscall.RawConn
	ringFull  func(uintptr) bool
	wakeBytes int
	// waited is false until sleep's readiness check first runs: a later
	// run was woken by the kernel.
	waited   bool
	closed   atomic.Bool // Close was called: a wait on ring ends at once
	flushed  atomic.Bool // Shutdown was called: an empty ring is drained
	idle     func()
	running  []Sensor
	byType   map[uint32]Sensor
	statuses []Status

	// Read's state: how long it sleeps next on an empty ring, and how
	// many records it read since it last slept.
	nap     time.Duration
	drained int

	mu        sync.Mutex
	malformed uint64

	// checkMu orders the self-check (Detached) before Shutdown: once
	// shutting is set no link is checked, so closing them is never taken
	// for tampering.
	checkMu  sync.Mutex
	shutting bool
	probes   []probe
	canary   canary
}

// Options configure a Set.
type Options struct {
	// RingBytes is the shared ring buffer size, a power of two multiple of
	// the page size. Zero means 8 MiB.
	RingBytes uint32
	// Poll is the shortest Read sleeps when it finds the ring empty.
	// Records are submitted without waking the reader (until a quarter of
	// the ring waits), and Read never waits in the kernel: it drains the
	// ring with non-blocking reads and sleeps in the Go scheduler between
	// drains, in its network poller, which the kernel's wakeup cuts short.
	// A steady trickle then costs one wakeup per sleep instead of one per
	// record, records are at most MaxPoll late (execs and renames, which
	// host rules alert on at once, wake the reader as they come: see
	// submit_urgent in bpf/common.h), and a busy ring is drained without
	// sleeping; a thread blocked in epoll_wait would cost more
	// than the records themselves (docs/benchmarks.md, "Why the defaults are what they are").
	// Zero means DefaultPoll; negative blocks and is woken for every record.
	Poll time.Duration
	// MaxPoll is the longest Read sleeps: while drains stay small it
	// doubles its sleep from Poll up to MaxPoll, and a big drain brings it
	// back to Poll. It bounds how late a record (and so a host alert) is
	// read (execs and renames wake the reader early). Zero means
	// DefaultMaxPoll; less than Poll means Poll.
	MaxPoll time.Duration
	// Idle, if set, is called by Read, on its goroutine, each time it
	// finds the ring empty, before it sleeps: the moment to hand on what
	// the records read so far produced, without a wakeup of its own.
	Idle     func()
	AgentPID uint32
	// Created, if set, is called with the set once its maps exist and
	// before any sensor starts: what the programs must know from their
	// first record on (SetNATSServerPID) is set there.
	Created func(*Set)
}

const (
	// DefaultPoll is how long Read sleeps on an empty ring while records
	// come fast: short enough that the fastest stream fills only a quarter
	// of the default ring meanwhile.
	DefaultPoll = 10 * time.Millisecond
	// DefaultMaxPoll is how long Read sleeps on an empty ring while
	// records trickle: every wakeup costs the agent far more than a record,
	// so a trickle's wakeup should carry many (docs/benchmarks.md, "Why the defaults are what they are"); it bounds how late a
	// write or database call is read. Neither a burst nor an alert-worthy
	// record waits for it: once a quarter of the ring is waiting, records
	// wake the reader (wake_bytes in bpf/common.h), and so does every exec
	// and rename (submit_urgent).
	DefaultMaxPoll = 250 * time.Millisecond
	// A drain (the records read between two sleeps) of fewer than
	// smallDrain records lets the next sleep double; one of more than
	// bigDrain brings it back to Poll.
	smallDrain = 1024
	bigDrain   = 8192
)

// never is a read deadline in the past: epoll_wait with a zero timeout.
var never = time.Unix(1, 0)

// ErrNoSensor is returned by Start when no sensor could start.
var ErrNoSensor = errors.New("no sensor could start")

// ErrDrained is returned by Read after Shutdown, once every record the
// sensors produced has been read.
var ErrDrained = errors.New("sensors shut down and ring buffer drained")

// ErrClosed is returned by Read after Close.
var ErrClosed = os.ErrClosed

// Start starts every sensor it can. A sensor that fails is recorded in
// Statuses with the reason and the rest still run; only when none runs does
// Start fail.
func Start(sensors []Sensor, opts Options) (*Set, error) {
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("removing memlock limit: %w", err)
	}
	size := opts.RingBytes
	if size == 0 {
		size = 8 << 20
	}
	events, err := ebpf.NewMap(&ebpf.MapSpec{Name: RingName, Type: ebpf.RingBuf, MaxEntries: size})
	if err != nil {
		return nil, fmt.Errorf("creating ring buffer: %w", explain(err))
	}
	natsPID, err := ebpf.NewMap(&ebpf.MapSpec{Name: "vigil_nats_pid", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		events.Close()
		return nil, fmt.Errorf("creating the NATS server pid map: %w", explain(err))
	}
	s := &Set{events: events, natsPID: natsPID, byType: map[uint32]Sensor{}, poll: opts.Poll, idle: opts.Idle,
		canary: canary{agentPID: opts.AgentPID}}
	if opts.Created != nil {
		opts.Created(s)
	}
	env := Env{Events: events, AgentPID: opts.AgentPID, NATSServer: natsPID}
	if s.poll == 0 {
		s.poll = DefaultPoll
	}
	s.maxPoll = opts.MaxPoll
	if s.maxPoll == 0 {
		s.maxPoll = DefaultMaxPoll
	}
	s.maxPoll = max(s.maxPoll, s.poll)
	s.nap = s.poll
	// A polling reader is not woken for each record: the kernel skips the
	// wakeup work until a quarter of the ring waits.
	env.NoWakeup = s.poll > 0
	env.WakeBytes = size / 4
	s.wakeBytes = int(env.WakeBytes)
	for _, sn := range sensors {
		if err := sn.Start(env); err != nil {
			s.statuses = append(s.statuses, Status{Name: sn.Name(), Error: explain(err).Error()})
			continue
		}
		st := Status{Name: sn.Name(), Running: true}
		if b, ok := sn.(interface{ Builds() *Builds }); ok {
			st.Build = b.Builds().String()
		}
		s.statuses = append(s.statuses, st)
		s.running = append(s.running, sn)
		s.recordProbes(sn)
		for _, t := range sn.Types() {
			s.byType[t] = sn
		}
	}
	if len(s.running) == 0 {
		events.Close()
		natsPID.Close()
		return s, fmt.Errorf("%w: %s", ErrNoSensor, s.failures())
	}
	s.reader, err = newRingReader(events)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("opening ring buffer reader: %w", err)
	}
	if s.poll < 0 {
		// Blocking: the kernel wakes the reader for each record that
		// finds it caught up, and any record ends the wait.
		s.wakeBytes = 1
	}
	if s.ring = pollable(events); s.ring != nil {
		// Made once, not per sleep: each would allocate.
		if s.ringConn, err = s.ring.SyscallConn(); err != nil {
			s.ring.Close()
			s.ring = nil
		} else {
			// Before waiting: only a full enough ring ends the sleep,
			// since records keep coming without a wakeup. After a
			// wakeup (a record that found wakeBytes waiting, or an
			// urgent one): any record does. A readiness left from a
			// wakeup while Read was draining ends one sleep early.
			s.ringFull = func(uintptr) bool {
				woken := s.waited
				s.waited = true
				avail := s.reader.available()
				return avail >= s.wakeBytes || woken && avail > 0
			}
		}
	}
	return s, nil
}

// pollable returns the ring buffer's descriptor (a copy) as a file in Go's
// network poller, or nil when it cannot be: Read then sleeps without
// being woken early.
func pollable(m *ebpf.Map) *os.File {
	fd, err := unix.FcntlInt(uintptr(m.FD()), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil
	}
	f := os.NewFile(uintptr(fd), RingName)
	if err := f.SetReadDeadline(time.Time{}); err != nil { // not in the poller
		f.Close()
		return nil
	}
	return f
}

// sleep waits d, or less if the kernel wakes the ring's readers because
// WakeBytes wait in it or an urgent record came; d < 0 waits for that
// alone. Shutdown ends it.
func (s *Set) sleep(d time.Duration) {
	if s.ring == nil {
		time.Sleep(max(d, DefaultPoll))
		return
	}
	s.waited = false
	deadline := time.Time{}
	if d >= 0 {
		deadline = time.Now().Add(d)
	}
	err := s.ring.SetReadDeadline(deadline)
	if s.flushed.Load() {
		// Shutdown's deadline may have come before this one.
		return
	}
	if err == nil {
		err = s.ringConn.Read(s.ringFull)
	}
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) && !s.closed.Load() {
		time.Sleep(d)
	}
}

func (s *Set) failures() string {
	var msg string
	for _, st := range s.statuses {
		if !st.Running {
			msg += fmt.Sprintf("%s: %s; ", st.Name, st.Error)
		}
	}
	return msg
}

// Statuses reports every sensor asked for, running or not.
func (s *Set) Statuses() []Status { return s.statuses }

// Running names the sensors that run.
func (s *Set) Running() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for _, sn := range s.running {
		names = append(names, sn.Name())
	}
	sort.Strings(names)
	return names
}

// Read blocks for the next record and decodes it. After Shutdown it
// returns what is left in the ring buffer and then ErrDrained; after Close,
// ErrClosed. Records it cannot decode are counted (Malformed) and skipped.
// A decoded record may share the ring's bytes until the next Read; one
// goroutine reads.
func (s *Set) Read() (any, error) {
	for {
		raw, ok, err := s.reader.read(s.raw)
		if err != nil {
			return nil, err
		}
		if !ok {
			// The ring is empty (or its next record not yet
			// committed, which a shut down sensor no longer does).
			if s.flushed.Load() {
				return nil, ErrDrained
			}
			if s.poll < 0 {
				s.sleep(-1)
				continue
			}
			s.nap = nextNap(s.nap, s.drained, s.poll, s.maxPoll)
			s.drained = 0
			if s.idle != nil {
				s.idle()
			}
			s.sleep(s.nap)
			continue
		}
		s.raw = raw
		s.drained++
		if len(raw) < 4 {
			s.countMalformed()
			continue
		}
		typ := uint32(raw[0]) | uint32(raw[1])<<8 | uint32(raw[2])<<16 | uint32(raw[3])<<24
		sn, ok := s.byType[typ]
		if !ok {
			s.countMalformed()
			continue
		}
		out, err := sn.Decode(typ, raw)
		if err != nil {
			s.countMalformed()
			continue
		}
		if !s.canary.watching.Load() || !s.take(out) {
			return out, nil
		}
	}
}

// Raw is the bytes of the record Read returned last, valid until the next
// Read: tests save them as fixtures.
func (s *Set) Raw() []byte { return s.raw }

// nextNap is how long Read sleeps on an empty ring after sleeping nap and
// then reading drained records: twice as long (up to maxPoll) after a
// small drain, poll after a big one, else as long again.
func nextNap(nap time.Duration, drained int, poll, maxPoll time.Duration) time.Duration {
	switch {
	case drained > bigDrain:
		return poll
	case drained < smallDrain:
		return min(2*nap, maxPoll)
	}
	return nap
}

func (s *Set) countMalformed() {
	s.mu.Lock()
	s.malformed++
	s.mu.Unlock()
}

// Malformed counts records that could not be decoded.
func (s *Set) Malformed() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.malformed
}

// Drops returns kernel-side drops per sensor and reason.
func (s *Set) Drops() map[string]map[string]uint64 {
	out := map[string]map[string]uint64{}
	s.mu.Lock()
	running := s.running
	s.mu.Unlock()
	for _, sn := range running {
		d, err := sn.Drops()
		if err == nil {
			out[sn.Name()] = d
		}
	}
	return out
}

// Shutdown detaches and unloads every sensor, so no record is added, and
// lets Read return the records still in the ring buffer before ErrDrained.
// The ring buffer itself stays until Close.
func (s *Set) Shutdown() error {
	s.checkMu.Lock()
	s.shutting = true
	s.checkMu.Unlock()
	s.mu.Lock()
	running := s.running
	s.running = nil
	s.mu.Unlock()
	var errs []error
	for _, sn := range running {
		errs = append(errs, sn.Close())
	}
	s.flushed.Store(true)
	if s.ring != nil {
		// End a sleeping Read's nap: it then reads the rest and stops.
		_ = s.ring.SetReadDeadline(never) // fails only on a closed ring, where no Read sleeps
	}
	return errors.Join(errs...)
}

// Close detaches every program and frees the ring buffer; a blocked Read
// returns ErrClosed.
func (s *Set) Close() error {
	errs := []error{s.Shutdown()}
	if s.ring != nil {
		// First: closing the file waits for a sleeping Read's check of
		// the ring, which must not look at a closed reader.
		s.closed.Store(true)
		errs = append(errs, s.ring.Close())
	}
	if s.reader != nil {
		errs = append(errs, s.reader.close())
	}
	errs = append(errs, s.events.Close(), s.natsPID.Close())
	return errors.Join(errs...)
}

// SetNATSServerPID tells every sensor to ignore pid as they ignore the agent:
// the NATS server the agent publishes to, when it runs on this host. Zero
// clears it.
func (s *Set) SetNATSServerPID(pid uint32) error {
	s.natsMu.Lock()
	defer s.natsMu.Unlock()
	if err := s.natsPID.Update(uint32(0), pid, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("setting the NATS server pid: %w", err)
	}
	s.natsPIDSet.Store(pid)
	return nil
}

// RingName is the name of the ring buffer every sensor of a Set writes to
// (what a tool looking for a running agent's ring finds it by).
const RingName = "vigil_events"

// ReadDrops sums a per-CPU drops map into counts by reason.
func ReadDrops(m *ebpf.Map) (map[string]uint64, error) {
	out := map[string]uint64{}
	for i, name := range dropReasons {
		var perCPU []uint64
		if err := m.Lookup(uint32(i), &perCPU); err != nil {
			return nil, fmt.Errorf("reading drop counter %s: %w", name, err)
		}
		var sum uint64
		for _, v := range perCPU {
			sum += v
		}
		out[name] = sum
	}
	return out, nil
}

// Cast copies raw into a T, the bpf2go twin of a C record. It fails when raw
// is shorter than T.
func Cast[T any](raw []byte) (*T, error) {
	var t T
	size := int(unsafe.Sizeof(t))
	if len(raw) < size {
		return nil, fmt.Errorf("record of %d bytes, want at least %d", len(raw), size)
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&t)), size), raw)
	return &t, nil
}

// CString returns the NUL-terminated string at the start of b.
func CString[E int8 | uint8](b []E) string {
	raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
	for i, c := range raw {
		if c == 0 {
			return string(raw[:i])
		}
	}
	return string(raw)
}

// Bytes views b as bytes without copying.
func Bytes[E int8 | uint8](b []E) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
}

// explain adds what to do to the errors a user can act on.
func explain(err error) error {
	switch {
	case errors.Is(err, ebpf.ErrNotSupported):
		return fmt.Errorf("%w (this kernel lacks the feature)", err)
	case errors.Is(err, os.ErrPermission):
		if os.Geteuid() != 0 {
			return fmt.Errorf("%w (run as root or with CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE)", err)
		}
		return fmt.Errorf("%w (the kernel refused this program type)", err)
	}
	return err
}

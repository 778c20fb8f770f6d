package enrich

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v3/process"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/event"
)

// keepDead is how long a process stays in the table after it exits: records
// that the kernel sent before the exit can still be waiting to be read.
const keepDead = 30 * time.Second

type proc struct {
	info   event.Process
	exited time.Time
}

// Table is the agent's view of the host's processes.
type Table struct {
	paths Paths
	ctx   context.Context // paths, for gopsutil
	mu    sync.Mutex
	procs map[uint32]*proc
	dead  []uint32
	users *Users
	clock Clock
	now   func() time.Time
	scrub *ArgScrubber
}

// SetScrubber makes the table scrub every command line it records.
func (t *Table) SetScrubber(s *ArgScrubber) { t.scrub = s }

// NewTable returns an empty table of the processes under paths.Proc.
func NewTable(paths Paths, users *Users, clock Clock) *Table {
	return &Table{paths: paths, ctx: paths.context(), procs: map[uint32]*proc{}, users: users, clock: clock, now: time.Now}
}

// Seed adds every process running now, so activity of processes older than
// the agent is attributed too. Processes that vanish while it reads are
// skipped.
func (t *Table) Seed() error {
	pids, err := process.PidsWithContext(t.ctx)
	if err != nil {
		return fmt.Errorf("listing processes: %w", err)
	}
	for _, pid := range pids {
		info, ok := t.fromProc(&process.Process{Pid: pid})
		if !ok {
			continue
		}
		t.fill(&info)
		t.mu.Lock()
		if _, known := t.procs[info.PID]; !known {
			t.procs[info.PID] = &proc{info: info}
		}
		t.mu.Unlock()
	}
	return nil
}

// fromProc reads what /proc says of p.
func (t *Table) fromProc(p *process.Process) (event.Process, bool) {
	pid := uint32(p.Pid)
	info := event.Process{PID: pid, LoginUID: event.NoLoginUID}
	ctx := t.ctx
	name, err := p.NameWithContext(ctx)
	if err != nil {
		return info, false
	}
	info.Comm = name
	if ppid, err := p.PpidWithContext(ctx); err == nil {
		info.PPID = uint32(ppid)
	}
	info.Exe, _ = p.ExeWithContext(ctx)
	if args, err := p.CmdlineSliceWithContext(ctx); err == nil {
		info.Cmdline = strings.Join(t.scrub.Scrub(args), " ")
	}
	if uids, err := p.UidsWithContext(ctx); err == nil && len(uids) > 0 {
		info.UID = uint32(uids[0])
	}
	if tty, err := p.TerminalWithContext(ctx); err == nil {
		info.TTY = strings.TrimPrefix(tty, "/")
	}
	if ms, err := p.CreateTimeWithContext(ctx); err == nil {
		info.StartTime = time.UnixMilli(ms).UTC()
	}
	info.LoginUID = readUint32(t.paths.procPID(pid, "loginuid"), event.NoLoginUID)
	info.Session = readUint32(t.paths.procPID(pid, "sessionid"), event.NoLoginUID)
	return info, true
}

func readUint32(path string, def uint32) uint32 {
	b, err := os.ReadFile(path)
	if err != nil {
		return def
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		return def
	}
	return uint32(v)
}

func (t *Table) fill(p *event.Process) {
	p.User = t.users.Name(p.UID)
	p.LoginUser = t.users.Name(p.LoginUID)
}

// Fork records a new process, a copy of its parent until it execs.
func (t *Table) Fork(r *sensor.Fork) {
	t.mu.Lock()
	defer t.mu.Unlock()
	info := event.Process{PID: r.PID, PPID: r.PPID, Comm: r.Comm}
	if parent, ok := t.procs[r.PPID]; ok {
		info = parent.info
		info.PID, info.PPID = r.PID, r.PPID
	}
	t.applyHeader(&info, &r.Header)
	info.StartTime = t.clock.Time(r.StartBoottime)
	t.procs[r.PID] = &proc{info: info}
}

// Exec records the program a process now runs and returns its description.
func (t *Table) Exec(r *sensor.Exec) event.Process {
	t.mu.Lock()
	defer t.mu.Unlock()
	info := event.Process{PID: r.PID, PPID: r.PPID, Exe: r.Filename, Comm: r.Comm, TTY: r.TTY,
		Cmdline: strings.Join(t.scrub.Scrub(r.Args), " "), StartTime: t.clock.Time(r.StartBoottime)}
	if r.ArgsTruncated {
		info.Cmdline += " ..."
	}
	t.applyHeader(&info, &r.Header)
	t.procs[r.PID] = &proc{info: info}
	return info
}

// Exit marks a process gone and returns its description. It stays in the
// table for a while for records still in flight.
func (t *Table) Exit(r *sensor.Exit) event.Process {
	info := t.Lookup(&r.Header)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if p, ok := t.procs[r.PID]; ok && p.exited.IsZero() {
		p.exited = now
		t.dead = append(t.dead, r.PID)
	}
	for len(t.dead) > 0 {
		p, ok := t.procs[t.dead[0]]
		if ok && !p.exited.IsZero() && now.Sub(p.exited) < keepDead {
			break
		}
		if ok && !p.exited.IsZero() {
			delete(t.procs, t.dead[0])
		}
		t.dead = t.dead[1:]
	}
	return info
}

// applyHeader takes the identity the kernel reported with the record, which
// is authoritative at that moment, over what the table remembers.
func (t *Table) applyHeader(info *event.Process, h *sensor.Header) {
	if info.UID != h.UID || info.User == "" {
		info.UID = h.UID
		info.User = t.users.Name(h.UID)
	}
	if info.LoginUID != h.LoginUID || (info.LoginUser == "" && h.LoginUID != event.NoLoginUID) {
		info.LoginUID = h.LoginUID
		info.LoginUser = t.users.Name(h.LoginUID)
	}
	info.Session = h.SessionID
	if info.Comm == "" {
		info.Comm = h.Comm
	}
}

// Lookup describes the process that produced a record. A process the table
// has not seen (it started while the agent was not reading) is read from
// /proc if it still runs, else described from the record alone.
func (t *Table) Lookup(h *sensor.Header) event.Process {
	t.mu.Lock()
	if p, ok := t.procs[h.PID]; ok {
		t.applyHeader(&p.info, h)
		info := p.info
		t.mu.Unlock()
		return info
	}
	t.mu.Unlock()

	// Read /proc without holding the table. The process is asked by its
	// directory: gopsutil would signal the pid, which a fixture's is not.
	info := event.Process{PID: h.PID, Comm: h.Comm, LoginUID: event.NoLoginUID}
	if _, err := os.Stat(t.paths.procPID(h.PID, "stat")); err == nil {
		if got, ok := t.fromProc(&process.Process{Pid: int32(h.PID)}); ok {
			info = got
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.procs[h.PID]
	if !ok { // not added meanwhile by an exec or fork record
		p = &proc{info: info}
		t.procs[h.PID] = p
	}
	t.applyHeader(&p.info, h)
	return p.info
}

// Len is the number of processes the table holds.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.procs)
}

package sensor

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// CanaryWait is how long the canary's records may take through the ring
// before the path that should have carried them is reported blind: the
// reader sleeps at most DefaultMaxPoll, and is woken at once after the
// canary, so only a reader held up by its own consumers comes near it.
const CanaryWait = 3 * time.Second

// canaryBacklogWaits is how many more times Canary waits while records
// are still unread in the ring before it reports the paths blind.
const canaryBacklogWaits = 4

// canaryShell runs the canary: a program every Linux host has, started by
// path so no PATH lookup can substitute another.
const canaryShell = "/bin/sh"

// CanaryDNSAddr is where the canary's DNS-shaped datagram goes: the net
// sensor reports every query to port 53, loopback included, and a loopback
// address nothing listens on keeps the datagram from any real resolver.
var CanaryDNSAddr = netip.AddrFrom4([4]byte{127, 86, 71, 76})

// IsCanaryUDP says whether a UDP total is the canary's datagram (counted
// only when the net sensor reports loopback traffic): it is dropped, as
// the canary's ring records are.
func IsCanaryUDP(u *UDP) bool {
	return u.DstPort == 53 && u.DstAddr.Unmap() == CanaryDNSAddr
}

// canary is the state of the self-check that makes activity the process
// and file sensors must see and looks for their records in the ring.
type canary struct {
	// watching is true while a canary runs or its children's records may
	// still come: Read looks at records only then.
	watching atomic.Bool
	// run lets one canary run at a time: they share the state below.
	run sync.Mutex
	// agentPID is the agent's: its children during a canary are the canary.
	agentPID uint32

	mu     sync.Mutex
	active bool   // a canary runs: the agent's new children are its own
	path   string // the file the canary writes
	// pids are the canary's children whose exit was not read yet: their
	// records are the agent's own and reach no stage.
	pids               map[uint32]bool
	execSeen, fileSeen bool
	dnsSeen            bool
	seen               chan struct{} // a canary record was read
}

// take reports whether rec is the canary's, noting what it proves; the
// canary's records are dropped before any stage sees them.
func (s *Set) take(rec any) bool {
	c := &s.canary
	c.mu.Lock()
	defer c.mu.Unlock()
	ours := false
	switch r := rec.(type) {
	case *Exec:
		if c.active && r.PPID == c.agentPID {
			c.pids[r.PID], c.execSeen, ours = true, true, true
		}
		ours = ours || c.pids[r.PID]
	case *Fork:
		if c.active && r.PPID == c.agentPID {
			c.pids[r.PID], ours = true, true
		}
	case *Exit:
		if ours = c.pids[r.PID]; ours {
			delete(c.pids, r.PID)
		}
	case *FileWrite:
		if c.active && r.Path == c.path {
			c.fileSeen, ours = true, true
		}
		ours = ours || c.pids[r.PID]
	case *Rename:
		ours = c.pids[r.PID]
	case *DNSQuery:
		if c.active && r.DstPort == 53 && r.DstAddr.Unmap() == CanaryDNSAddr {
			c.dnsSeen, ours = true, true
		}
		ours = ours || c.pids[r.PID]
	}
	if !c.active && len(c.pids) == 0 {
		c.watching.Store(false)
	}
	if ours {
		select {
		case c.seen <- struct{}{}:
		default:
		}
	}
	return ours
}

// Canary checks that the running process, file and net sensors still
// deliver: a child of the agent runs a shell that writes a file in dir and
// a DNS-shaped datagram to CanaryDNSAddr port 53 on a socket the agent
// hands it, and the exec, the write and the query must come through the
// ring within wait. It also reads back the maps checkMaps covers. It returns
// what did not, as "sensor: what" (a program left attached but made blind
// by a map emptied or rewritten, or the ring read by someone else). The
// canary's records reach no stage. It returns nil once Shutdown has begun,
// only the maps' findings when none of the three sensors runs, and no
// finding of the ring's when the kernel dropped records meanwhile (a full
// ring is reported as loss, not as blindness).
func (s *Set) Canary(dir string, wait time.Duration) []string {
	s.mu.Lock()
	_, procOn := s.byType[RecExec]
	_, fileOn := s.byType[RecFileWrite]
	_, netOn := s.byType[RecDNSQuery]
	s.mu.Unlock()
	if s.stopping() {
		return nil
	}
	out := s.checkMaps()
	if !procOn && !fileOn && !netOn {
		return out
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return append(out, fmt.Sprintf("self-check: cannot make the canary's directory: %v", err))
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real // records carry the resolved path
	}
	path := filepath.Join(dir, "canary")
	drops := s.droppedTotal()

	c := &s.canary
	c.run.Lock()
	defer c.run.Unlock()
	c.mu.Lock()
	if c.pids == nil {
		c.pids, c.seen = map[uint32]bool{}, make(chan struct{}, 1)
	}
	c.active, c.path, c.execSeen, c.fileSeen, c.dnsSeen = true, path, false, false, false
	c.watching.Store(true)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.active = false
		if len(c.pids) == 0 {
			c.watching.Store(false)
		}
		c.mu.Unlock()
	}()

	script := `echo vigil self-check > "$1"`
	var sock *os.File
	if netOn {
		var err error
		if sock, err = canarySocket(); err != nil {
			return append(out, fmt.Sprintf("self-check: %v", err))
		}
		defer sock.Close()
		script += `; echo vigil self-check >&3`
	}
	cmd := exec.Command(canaryShell, "-c", script, "vigil-selfcheck", path)
	if sock != nil {
		cmd.ExtraFiles = []*os.File{sock} // fd 3
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		return append(out, fmt.Sprintf("self-check: the canary %s could not run: %v %s", canaryShell, err, msg))
	}
	s.wake()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	extended := 0
	for {
		c.mu.Lock()
		done := (!procOn || c.execSeen) && (!fileOn || c.fileSeen) && (!netOn || c.dnsSeen)
		execSeen, fileSeen, dnsSeen := c.execSeen, c.fileSeen, c.dnsSeen
		c.mu.Unlock()
		if done {
			return out
		}
		select {
		case <-c.seen:
			continue
		case <-deadline.C:
		}
		if s.stopping() {
			return nil
		}
		if s.droppedTotal() != drops {
			return out
		}
		// Records still unread mean the agent is behind, not blind: the
		// canary's may be among them, so it waits on, a bounded number
		// of times, before it says so.
		if s.reader != nil && s.reader.available() > 0 && extended < canaryBacklogWaits {
			extended++
			deadline.Reset(wait)
			continue
		}
		if procOn && !execSeen {
			out = append(out, fmt.Sprintf("process: the canary's exec of %s did not come through the ring within %v", canaryShell, wait*time.Duration(1+extended)))
		}
		if fileOn && !fileSeen {
			out = append(out, fmt.Sprintf("file: the canary's write to %s did not come through the ring within %v", path, wait*time.Duration(1+extended)))
		}
		if netOn && !dnsSeen {
			out = append(out, fmt.Sprintf("net: the canary's DNS query to %v:53 did not come through the ring within %v", CanaryDNSAddr, wait*time.Duration(1+extended)))
		}
		return out
	}
}

// canarySocket is a UDP socket connected to CanaryDNSAddr port 53, for the
// canary's child to send on: the datagram is the child's, which the net
// sensor reports, where the agent's own would be ignored.
func canarySocket() (*os.File, error) {
	conn, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(CanaryDNSAddr, 53)))
	if err != nil {
		return nil, fmt.Errorf("opening the canary's UDP socket: %w", err)
	}
	defer conn.Close()
	f, err := conn.File()
	if err != nil {
		return nil, fmt.Errorf("handing over the canary's UDP socket: %w", err)
	}
	return f, nil
}

// stopping says Shutdown has begun.
func (s *Set) stopping() bool {
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	return s.shutting
}

// wake cuts a sleeping Read's nap short, so the canary's records are read
// now rather than up to MaxPoll later.
func (s *Set) wake() {
	if s.ring != nil && !s.closed.Load() {
		_ = s.ring.SetReadDeadline(never) // fails only on a closed ring, where no Read sleeps
	}
}

// droppedTotal sums the running sensors' kernel drops.
func (s *Set) droppedTotal() uint64 {
	var n uint64
	for _, d := range s.Drops() {
		for _, v := range d {
			n += v
		}
	}
	return n
}

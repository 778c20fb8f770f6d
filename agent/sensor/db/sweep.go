package db

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigilhq/vigil/agent/sensor"
)

// No program sees a Unix socket's close (there is no tracepoint for it, and
// kprobes and fentry are not to be had), so the kernel's table of database
// connections is swept from here: a Unix entry whose inode is no longer
// among the sockets of any network namespace is a closed connection. Its
// close is reported at the second sweep that finds it gone, by when the
// records its last calls wrote have long been read from the ring (the agent
// reads it every few milliseconds), and the entry is removed.

// RunCloses hands emit the closes Sweep finds, every SweepEvery, until ctx
// ends.
func (s *Sensor) RunCloses(ctx context.Context, emit func([]*Close)) error {
	t := time.NewTicker(s.cfg.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			closes, err := s.Sweep()
			if err != nil {
				return err
			}
			if len(closes) > 0 {
				emit(closes)
			}
		}
	}
}

// Sweep runs one sweep: it returns the closes of the Unix connections found
// gone by this sweep and the one before, and forgets them in the kernel.
func (s *Sensor) Sweep() ([]*Close, error) {
	if s.Coll == nil || s.Coll.Maps["db_socks"] == nil {
		return nil, errors.New("db sensor not started")
	}
	m := s.Coll.Maps["db_socks"]
	type entry struct{ addr, ino uint64 }
	var unixEntries []entry
	var addr uint64
	var st dbSockState
	it := m.Iterate()
	for it.Next(&addr, &st) {
		if st.Ino != 0 {
			unixEntries = append(unixEntries, entry{addr, st.Ino})
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("sweeping database connections: %w", err)
	}
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	if len(unixEntries) == 0 {
		clear(s.gone)
		return nil, nil
	}
	live, err := unixInodes(s.cfg.ProcNetUnix)
	if err != nil {
		return nil, fmt.Errorf("sweeping database connections: %w", err)
	}
	var missing []uint64
	for _, e := range unixEntries {
		if !live[e.ino] {
			missing = append(missing, e.ino)
		}
	}
	s.elsewhere = s.addOtherNamespaces(live, missing)
	gone := make(map[uint64]uint64)
	var out []*Close
	now := boottime()
	for _, e := range unixEntries {
		if live[e.ino] {
			continue
		}
		if s.gone[e.addr] != e.ino {
			gone[e.addr] = e.ino // first seen gone: reported next time
			continue
		}
		// Removed only if the entry is still the dead socket's: a new
		// socket may have taken the address since it was read.
		if err := m.Lookup(e.addr, &st); err != nil || st.Ino != e.ino {
			continue
		}
		if err := m.Delete(e.addr); err != nil {
			continue
		}
		out = append(out, &Close{Header: sensor.Header{Type: RecClose, TS: now}, Conn: Conn{Sock: e.addr, Ino: e.ino}})
	}
	s.gone = gone
	return out, nil
}

// addOtherNamespaces adds to live the Unix sockets of the network
// namespaces other than the agent's, until every inode of missing is found:
// a socket is listed in the namespace of the process that made it, so a
// container's client end of a connection to the host's database socket is
// in the container's table. The tables that listed them last sweep are
// read first; only an inode still missing walks /proc for the namespaces,
// found through their processes, so a socket whose namespace no process is
// in any more is taken for closed. It returns where each inode was found.
func (s *Sensor) addOtherNamespaces(live map[uint64]bool, missing []uint64) map[uint64]string {
	found := map[uint64]string{}
	read := map[string]bool{}
	// add reads the table at path and says whether every missing inode is
	// found now.
	add := func(path string) bool {
		read[path] = true
		inos, err := unixInodes(path)
		if err != nil {
			return false // the process ended
		}
		for ino := range inos {
			live[ino] = true
		}
		done := true
		for _, ino := range missing {
			if _, ok := found[ino]; !ok && inos[ino] {
				found[ino] = path
			}
			done = done && live[ino]
		}
		return done
	}
	if len(missing) == 0 {
		return found
	}
	for _, ino := range missing {
		if path := s.elsewhere[ino]; path != "" && !read[path] && add(path) {
			return found
		}
	}
	own, _ := os.Readlink("/proc/self/ns/net")
	seen := map[string]bool{own: true}
	dir, err := os.ReadDir("/proc")
	if err != nil {
		return found
	}
	for _, d := range dir {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		ns, err := os.Readlink("/proc/" + d.Name() + "/ns/net")
		if err != nil || seen[ns] {
			continue // gone since the listing, or a namespace already read
		}
		seen[ns] = true
		if path := "/proc/" + d.Name() + "/net/unix"; !read[path] && add(path) {
			return found
		}
	}
	return found
}

// unixInodes reads the inodes of the host's Unix sockets from a
// /proc/net/unix listing.
func unixInodes(path string) (map[uint64]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[uint64]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 1<<20)
	first := true
	for sc.Scan() {
		if first { // the header
			first = false
			continue
		}
		fields := strings.Fields(sc.Text())
		if len(fields) < 7 {
			continue
		}
		ino, err := strconv.ParseUint(fields[6], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: inode %q: %w", path, fields[6], err)
		}
		out[ino] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return out, nil
}

// boottime is now on the kernel's boot-time clock, as records are stamped.
func boottime() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) // cannot fail for this clock
	return uint64(ts.Nano())
}

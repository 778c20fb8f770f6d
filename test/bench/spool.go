package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// spoolPos is a place in the agent's spool: segment, byte offset.
type spoolPos struct {
	seg uint64
	off int64
}

// spoolBacklogs are the records in the agent's spool not yet acknowledged
// by JetStream (after the cursor's second position) and not yet confirmed
// stored by the collector (after its first), with the bytes the first take.
type spoolBacklogs struct {
	unacked, unackedBytes int64
	uncommitted           int64
}

// readSpoolBacklogs reads the agent's spool as agent/publish/spool lays it
// out: <n>.seg files of records (4-byte big-endian length, 4-byte CRC,
// payload) and a cursor file "committed acked crc", each position "seg
// offset index"; a cursor of one position (older agents) is both.
func readSpoolBacklogs(dir string) (spoolBacklogs, error) {
	var out spoolBacklogs
	var commit, ack spoolPos
	if b, err := os.ReadFile(filepath.Join(dir, "cursor")); err == nil {
		commit, ack = parseSpoolCursor(string(b)) // unreadable: count from the start
	}
	segs, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		return out, err
	}
	for _, path := range segs {
		n, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(path), ".seg"), 10, 64)
		if err != nil {
			continue
		}
		for _, c := range []struct {
			from  spoolPos
			count *int64
			bytes *int64
		}{{ack, &out.unacked, &out.unackedBytes}, {commit, &out.uncommitted, nil}} {
			if n < c.from.seg {
				continue
			}
			from := int64(0)
			if n == c.from.seg {
				from = c.from.off
			}
			k, nb, err := countRecords(path, from)
			if err != nil {
				return out, fmt.Errorf("counting the spool's records in %s: %w", path, err)
			}
			*c.count += k
			if c.bytes != nil {
				*c.bytes += nb
			}
		}
	}
	return out, nil
}

// parseSpoolCursor returns the committed and acknowledged positions of a
// cursor line; one position stands for both, and an unreadable line is the
// spool's start.
func parseSpoolCursor(line string) (commit, ack spoolPos) {
	f := strings.Fields(line)
	var v []int64
	for _, x := range f {
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			break // the checksum, in hex
		}
		v = append(v, n)
	}
	switch {
	case len(v) >= 6:
		return spoolPos{uint64(v[0]), v[1]}, spoolPos{uint64(v[3]), v[4]}
	case len(v) >= 3:
		p := spoolPos{uint64(v[0]), v[1]}
		return p, p
	}
	return spoolPos{}, spoolPos{}
}

func countRecords(path string, off int64) (n, bytes int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	start := off
	var h [4]byte
	for off+8 <= st.Size() {
		if _, err := f.ReadAt(h[:], off); err != nil {
			return n, off - start, err
		}
		next := off + 8 + int64(uint32(h[0])<<24|uint32(h[1])<<16|uint32(h[2])<<8|uint32(h[3]))
		if next > st.Size() {
			break // a record still being written
		}
		off = next
		n++
	}
	return n, off - start, nil
}

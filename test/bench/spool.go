package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// spoolBacklog counts the records in the agent's spool after its saved
// cursor: events not yet acknowledged by JetStream as of the agent's last
// flush. The layout is agent/publish's: <n>.seg files of records (4-byte
// big-endian length, 4-byte CRC, payload) and a cursor file "seg offset
// index".
func spoolBacklog(dir string) (records int64, err error) {
	records, _, err = spoolBacklogBytes(dir)
	return records, err
}

// spoolBacklogBytes is spoolBacklog with the bytes those records take.
func spoolBacklogBytes(dir string) (records, bytes int64, err error) {
	var cseg uint64
	var coff int64
	if b, err := os.ReadFile(filepath.Join(dir, "cursor")); err == nil {
		var idx int64
		_, _ = fmt.Sscanf(string(b), "%d %d %d", &cseg, &coff, &idx) // unreadable: count from the start
	}
	segs, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		return 0, 0, err
	}
	for _, path := range segs {
		n, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(path), ".seg"), 10, 64)
		if err != nil || n < cseg {
			continue
		}
		from := int64(0)
		if n == cseg {
			from = coff
		}
		c, nb, err := countRecords(path, from)
		if err != nil {
			return records, bytes, err
		}
		records += c
		bytes += nb
	}
	return records, bytes, nil
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

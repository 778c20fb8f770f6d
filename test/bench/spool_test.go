package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeSegment writes n records of size bytes as agent/publish/spool does
// and returns the offset after each.
func writeSegment(t *testing.T, path string, n, size int) []int64 {
	t.Helper()
	var b []byte
	var offs []int64
	for range n {
		b = binary.BigEndian.AppendUint32(b, uint32(size))
		b = append(b, 0, 0, 0, 0)
		b = append(b, make([]byte, size)...)
		offs = append(offs, int64(len(b)))
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return offs
}

// The JetStream backlog counts from the cursor's acknowledged position,
// the collector's from its committed one.
func TestSpoolBacklogsFromBothPositions(t *testing.T) {
	dir := t.TempDir()
	offs1 := writeSegment(t, filepath.Join(dir, "1.seg"), 10, 20)
	writeSegment(t, filepath.Join(dir, "2.seg"), 5, 20)
	// Committed after 3 records of segment 1, acknowledged after 2 of segment 2.
	cursor := fmt.Sprintf("%020d %020d %020d %020d %020d %020d 0badcafe\n", 1, offs1[2], 3, 2, 56, 2)
	if err := os.WriteFile(filepath.Join(dir, "cursor"), []byte(cursor), 0o600); err != nil {
		t.Fatal(err)
	}
	bl, err := readSpoolBacklogs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if bl.unacked != 3 || bl.unackedBytes != 84 || bl.uncommitted != 12 {
		t.Errorf("backlogs = %+v, want 3 unacked (84 bytes), 12 uncommitted", bl)
	}
	// An older agent's cursor holds one position, both at once.
	if err := os.WriteFile(filepath.Join(dir, "cursor"), fmt.Appendf(nil, "%020d %020d %020d 12345678\n", 2, 0, 0), 0o600); err != nil {
		t.Fatal(err)
	}
	if bl, err = readSpoolBacklogs(dir); err != nil || bl.unacked != 5 || bl.uncommitted != 5 {
		t.Errorf("one-position cursor: %+v, %v", bl, err)
	}
}

package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestSpoolCursorFile checks the cursor file across restarts: a cursor
// saved twice in place is read back, one written by an earlier version
// ("seg off idx") is still honoured, and a torn or corrupt one resends
// from the first record rather than resuming mid-record.
func TestSpoolCursorFile(t *testing.T) {
	dir := t.TempDir()
	s := openHundred(t, dir)
	_, p10, _ := s.ReadBatch(s.Start(), 10, nil)
	s.Commit(p10)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, p40, _ := s.ReadBatch(p10, 30, nil)
	if len(recs) != 30 {
		t.Fatalf("read %d records, want 30", len(recs))
	}
	s.Commit(p40)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cursor := filepath.Join(dir, "cursor")
	b, err := os.ReadFile(cursor)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(cursorLine(p40)) {
		t.Fatalf("cursor file %q, want %q", b, cursorLine(p40))
	}
	resume := func(what, want string, n int) {
		t.Helper()
		s, err := Open(dir, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		got, _ := readAll(t, s, s.Start())
		if len(got) != n || got[0] != want {
			t.Fatalf("%s: read %d records from %q, want %d from %q", what, len(got), got[0], n, want)
		}
	}
	resume("cursor saved in place", "rec-040", 60)

	old := fmt.Sprintf("%d %d %d\n", p10.seg, p10.off, p10.idx)
	if err := os.WriteFile(cursor, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	resume("cursor of an earlier version", "rec-010", 90)

	torn := cursorLine(p40)
	copy(torn, cursorLine(p10)[:41]) // segment and offset of another write
	if err := os.WriteFile(cursor, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	resume("torn cursor", "rec-000", 100)
}

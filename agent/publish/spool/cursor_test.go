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
	if string(b) != string(cursorLine(p40, p40)) {
		t.Fatalf("cursor file %q, want %q", b, cursorLine(p40, p40))
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
	if err := os.WriteFile(cursor, oneCursorLine(p40), 0o600); err != nil {
		t.Fatal(err)
	}
	resume("one-position cursor of an earlier version", "rec-040", 60)

	torn := cursorLine(p40, p40)
	copy(torn, cursorLine(p10, p10)[:41]) // segment and offset of another write
	if err := os.WriteFile(cursor, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	resume("torn cursor", "rec-000", 100)
}

// Records JetStream acknowledged stay in the spool, across a restart too,
// until the collector confirms them stored: a resend starts at the first
// unconfirmed record, and only segments wholly before it go.
func TestSpoolKeepsAcknowledgedUntilCommitted(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	s.segBytes = 1 << 10 // several segments
	for i := range 100 {
		if err := s.Append(Record{Subject: "s", ID: fmt.Sprintf("boot-%d", i+1), Data: make([]byte, 100)}, "boot", uint64(i+1), nil); err != nil {
			t.Fatal(err)
		}
	}
	segs := len(s.segs)
	_, p10, _ := s.ReadBatch(s.Start(), 10, nil)
	_, p90, _ := s.ReadBatch(p10, 80, nil)
	s.Commit(p10)
	s.Ack(p90)
	if got := s.Depth(); got != 10 {
		t.Fatalf("depth %d after acking 90 of 100, want 10", got)
	}
	if got := s.Unconfirmed(); got != 80 {
		t.Fatalf("%d unconfirmed, want 80", got)
	}
	if len(s.segs) >= segs-1 {
		// p10 is in the second segment: the first may go, no more.
		t.Logf("segments %d of %d kept", len(s.segs), segs)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Start() != p10 || s.Acked() != p90 {
		t.Fatalf("reopened at committed %+v acked %+v, want %+v and %+v", s.Start(), s.Acked(), p10, p90)
	}
	recs, _, err := s.ReadBatch(s.Start(), 1, nil)
	if err != nil || len(recs) != 1 || recs[0].ID != "boot-11" {
		t.Fatalf("a resend starts at %v (%v), want boot-11", recs, err)
	}
}

// A full spool that drops records JetStream acknowledged but the collector
// has not confirmed counts them apart: they are not reported as loss.
func TestSpoolDropOfUnconfirmedIsNotLoss(t *testing.T) {
	s, err := Open(t.TempDir(), 4<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := s.Start()
	for i := 1; i <= 100; i++ {
		if err := s.Append(Record{Subject: "s", ID: fmt.Sprintf("boot-%d", i), Data: make([]byte, 100)}, "boot", uint64(i), nil); err != nil {
			t.Fatal(err)
		}
		_, p, _ = s.ReadBatch(p, 1, nil)
		s.Ack(p) // each acknowledged, none confirmed
	}
	if s.UnconfirmedDropped() == 0 {
		t.Fatal("the spool dropped no unconfirmed record; make it smaller")
	}
	if s.Lost() != 0 || len(s.TakeDropped()) != 0 {
		t.Fatalf("acknowledged records dropped were reported lost: %d", s.Lost())
	}
}

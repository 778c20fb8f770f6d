package spool

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
)

// cursorLine is the cursor file's content for p: fixed width, so each save
// overwrites the last in place, and checksummed, so a torn write (a power
// cut) reads as no cursor, which only resends, rather than as a position
// in the middle of a record.
func cursorLine(p Pos) []byte {
	b := fmt.Appendf(nil, "%020d %020d %020d", p.seg, p.off, p.idx)
	return fmt.Appendf(b, " %08x\n", crc32.Checksum(b, crcTable))
}

func (s *Spool) readCursor() Pos {
	first := Pos{seg: s.segs[0].n}
	b, err := os.ReadFile(filepath.Join(s.dir, "cursor"))
	if err != nil {
		return first
	}
	var p Pos
	var sum uint32
	switch n, _ := fmt.Sscanf(string(b), "%d %d %d %x", &p.seg, &p.off, &p.idx, &sum); {
	case n == 4 && bytes.Equal(b, cursorLine(p)):
	case n == 3 && !bytes.ContainsRune(b[:len(b)-1], '\n'):
		// Written by an earlier version: "seg off idx\n", replaced whole.
	default:
		return first
	}
	for _, sg := range s.segs {
		if sg.n == p.seg && p.off <= sg.size && p.idx <= sg.count {
			return p
		}
	}
	return first
}

func (s *Spool) flushLocked() error {
	if s.bw.Buffered() == 0 {
		return nil
	}
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("flushing spool: %w", err)
	}
	s.flushed = s.segs[len(s.segs)-1].size
	return nil
}

// Flush writes buffered records to the segment file (the page cache keeps
// them across a crash of the agent) and saves the cursor if it moved.
func (s *Spool) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if err := s.flushLocked(); err != nil {
		return err
	}
	return s.saveCursorLocked()
}

// saveCursorLocked writes the cursor if it moved: one pwrite to a file
// kept open, where a new file and a rename would cost several system
// calls at every flush.
func (s *Spool) saveCursorLocked() error {
	if s.committed == s.saved {
		return nil
	}
	if s.cursor == nil {
		f, err := os.OpenFile(filepath.Join(s.dir, "cursor"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("saving spool cursor: %w", err)
		}
		s.cursor = f
	}
	c := s.committed
	if _, err := s.cursor.WriteAt(cursorLine(c), 0); err != nil {
		return fmt.Errorf("saving spool cursor: %w", err)
	}
	s.saved = c
	return nil
}

// Commit marks every record before p as delivered and removes segments
// wholly behind it. The cursor file is saved on the next flush.
func (s *Spool) Commit(p Pos) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.committed.before(p) {
		return
	}
	s.committed = p
	kept := s.lossRecs[:0]
	for _, l := range s.lossRecs {
		if l.seg > p.seg || l.seg == p.seg && l.idx >= p.idx {
			kept = append(kept, l)
		}
	}
	s.lossRecs = kept
	for len(s.segs) > 1 && s.segs[0].n < p.seg {
		s.removeOldest()
	}
	// Records acknowledged are never read again.
	for s.tailHead < len(s.tail) && !p.before(s.tail[s.tailHead].Next) {
		s.popTail()
	}
}

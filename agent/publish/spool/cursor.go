package spool

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
)

// cursorLine is the cursor file's content for the committed position c
// and the acknowledged one a: fixed width, so each save overwrites the
// last in place, and checksummed, so a torn write (a power cut) reads as
// no cursor, which only resends, rather than as a position in the middle
// of a record.
func cursorLine(c, a Pos) []byte {
	b := fmt.Appendf(nil, "%020d %020d %020d %020d %020d %020d", c.seg, c.off, c.idx, a.seg, a.off, a.idx)
	return fmt.Appendf(b, " %08x\n", crc32.Checksum(b, crcTable))
}

// oneCursorLine is the cursor file as versions that kept one position
// wrote it.
func oneCursorLine(p Pos) []byte {
	b := fmt.Appendf(nil, "%020d %020d %020d", p.seg, p.off, p.idx)
	return fmt.Appendf(b, " %08x\n", crc32.Checksum(b, crcTable))
}

// readCursor returns the committed and acknowledged positions the cursor
// file holds; a file written by an older version holds one, which is both.
func (s *Spool) readCursor() (committed, acked Pos) {
	first := Pos{seg: s.segs[0].n}
	b, err := os.ReadFile(filepath.Join(s.dir, "cursor"))
	if err != nil {
		return first, first
	}
	var c, a Pos
	var sum uint32
	switch n, _ := fmt.Sscanf(string(b), "%d %d %d %d %d %d %x", &c.seg, &c.off, &c.idx, &a.seg, &a.off, &a.idx, &sum); {
	case n == 7 && bytes.Equal(b, cursorLine(c, a)):
	case n == 4 && bytes.Equal(b, oneCursorLine(c)):
		a = c
	case n == 3 && !bytes.ContainsRune(b[:len(b)-1], '\n'):
		// "seg off idx\n", replaced whole.
		a = c
	default:
		return first, first
	}
	c, a = s.valid(c), s.valid(a)
	if a.before(c) {
		a = c
	}
	return c, a
}

// valid returns p if it is a record boundary of a kept segment, else the
// first record kept.
func (s *Spool) valid(p Pos) Pos {
	for _, sg := range s.segs {
		if sg.n == p.seg && p.off <= sg.size && p.idx <= sg.count {
			return p
		}
	}
	return Pos{seg: s.segs[0].n}
}

// saveCursorLocked writes the cursor if it moved: one pwrite to a file
// kept open, where a new file and a rename would cost several system
// calls at every flush.
func (s *Spool) saveCursorLocked(c, a Pos) error {
	if s.saved == [2]Pos{c, a} {
		return nil
	}
	if s.cursor == nil {
		f, err := os.OpenFile(filepath.Join(s.dir, "cursor"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("saving spool cursor: %w", err)
		}
		s.cursor = f
	}
	if _, err := s.cursor.WriteAt(cursorLine(c, a), 0); err != nil {
		return fmt.Errorf("saving spool cursor: %w", err)
	}
	s.saved = [2]Pos{c, a}
	return nil
}

// Ack marks every record before p as acknowledged by JetStream: they are
// no longer waiting (Depth), but stay in the spool until Commit.
func (s *Spool) Ack(p Pos) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ackLocked(p)
}

func (s *Spool) ackLocked(p Pos) {
	if !s.acked.before(p) {
		return
	}
	s.acked = p
	kept := s.lossRecs[:0]
	for _, l := range s.lossRecs {
		if l.seg > p.seg || l.seg == p.seg && l.idx >= p.idx {
			kept = append(kept, l)
		}
	}
	s.lossRecs = kept
}

// Commit marks every record before p as stored by the collector (and so
// acknowledged too) and removes segments wholly behind it. The cursor file
// is saved on the next flush.
func (s *Spool) Commit(p Pos) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ackLocked(p)
	if !s.committed.before(p) {
		return
	}
	s.committed = p
	for len(s.segs) > 1 && s.segs[0].n < p.seg {
		s.removeOldest()
	}
	// Records confirmed are never read again; unconfirmed ones stay in
	// memory for a resend, within the tail's bound.
	for s.tailHead < len(s.tail) && !p.before(s.tail[s.tailHead].Next) {
		s.popTail()
	}
}

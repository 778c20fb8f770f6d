package spool

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
)

// tailAt returns the tail record at p, if the tail still has it.
func (s *Spool) tailAt(p Pos) *Entry {
	t := s.tail[s.tailHead:]
	i := sort.Search(len(t), func(i int) bool { return !t[i].At.before(p) })
	if i < len(t) && t[i].At.seg == p.seg && t[i].At.off == p.off {
		return &t[i]
	}
	return nil
}

// ReadBatch appends up to limit records from p on to dst and returns the
// position after them (or, with an error, of the record it could not read); it returns fewer at the end of the spool. Records
// come from the memory tail when it still has them and from the segment
// files otherwise; the data of those read from a file is only valid until
// the next ReadBatch. A p in a dropped segment moves to the oldest record
// still kept.
func (s *Spool) ReadBatch(p Pos, limit int, dst []Entry) ([]Entry, Pos, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return dst, p, ErrClosed
	}
	if cap(s.arena) > 1<<20 {
		s.arena = nil // after a batch of big records
	}
	s.arena = s.arena[:0]
	for n := 0; n < limit; n++ {
		var sg *segment
		if p, sg = s.locate(p); sg == nil {
			return dst, p, fmt.Errorf("spool segment %d is missing", p.seg)
		}
		if p.off >= sg.size {
			break
		}
		if t := s.tailAt(p); t != nil {
			dst = append(dst, *t)
			p = t.Next
			continue
		}
		r, next, err := s.readFile(sg, p)
		if err != nil {
			return dst, p, err
		}
		dst = append(dst, Entry{Record: r, At: p, Next: next})
		p = next
	}
	return dst, p, nil
}

// locate finds the segment of p, moving a p in a dropped segment to the
// oldest record kept and one past the end of a finished segment to the
// start of the next.
func (s *Spool) locate(p Pos) (Pos, *segment) {
	if p.seg < s.segs[0].n {
		p = Pos{seg: s.segs[0].n}
	}
	for i, x := range s.segs {
		if x.n != p.seg {
			continue
		}
		for p.off >= x.size && i < len(s.segs)-1 {
			i++
			x = s.segs[i]
			p = Pos{seg: x.n}
		}
		return p, x
	}
	return p, nil
}

// SkipSegment is where reading goes on after a record at p that cannot be
// read: the next segment, or the end of the spool.
func (s *Spool) SkipSegment(p Pos) Pos {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.segs {
		if x.n > p.seg {
			return Pos{seg: x.n}
		}
	}
	last := s.segs[len(s.segs)-1]
	return Pos{seg: last.n, off: last.size, idx: last.count}
}

// HasAfter says whether there is a record at or after p.
func (s *Spool) HasAfter(p Pos) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, sg := s.locate(p)
	return sg != nil && p.off < sg.size
}

// readFile reads the record at p from segment sg.
func (s *Spool) readFile(sg *segment, p Pos) (Record, Pos, error) {
	if sg == s.segs[len(s.segs)-1] && p.off >= s.flushed {
		if err := s.flushLocked(); err != nil {
			return Record{}, p, err
		}
	}
	if s.rf == nil || s.rfSeg != sg.n {
		s.closeReader(s.rfSeg)
		var err error
		if s.rf, err = os.Open(segName(s.dir, sg.n)); err != nil {
			s.rf = nil
			return Record{}, p, fmt.Errorf("reading spool: %w", err)
		}
		s.rfSeg, s.brOff = sg.n, -1
	}
	if s.brOff != p.off || p.off >= s.brEnd {
		// The section ends where whole records do, so the reader never
		// keeps an EOF from before the file grew.
		end := sg.size
		if sg == s.segs[len(s.segs)-1] {
			end = s.flushed
		}
		r := io.NewSectionReader(s.rf, p.off, end-p.off)
		if s.br == nil {
			s.br = bufio.NewReaderSize(r, 64<<10)
		} else {
			s.br.Reset(r)
		}
		s.brOff, s.brEnd = p.off, end
	}
	// Records land in the arena so a batch costs no allocation per record.
	start := len(s.arena)
	buf := s.arena[start:]
	n, err := readRecord(s.br, &buf)
	if err != nil {
		s.brOff = -1
		return Record{}, p, fmt.Errorf("reading spool segment %d at %d: %w", sg.n, p.off, err)
	}
	s.brOff += int64(recHeader + n)
	s.fileReads++
	if cap(s.arena)-start >= n {
		s.arena = s.arena[:start+n]
	} else {
		// readRecord allocated; the next records go to a bigger arena
		// (those already returned keep the old one).
		s.arena = make([]byte, 0, max(2*cap(s.arena), 64<<10, n))
	}
	subj, id, data, err := splitRecord(buf)
	if err != nil {
		return Record{}, p, fmt.Errorf("reading spool segment %d at %d: %w", sg.n, p.off, err)
	}
	return Record{Subject: s.intern(subj), ID: string(id), Data: data},
		Pos{seg: sg.n, off: p.off + int64(recHeader+n), idx: p.idx + 1}, nil
}

// intern returns a string for subj without allocating for the few
// subjects an agent publishes to.
func (s *Spool) intern(subj []byte) string {
	for _, x := range s.interned {
		if x == string(subj) {
			return x
		}
	}
	x := string(subj)
	if len(s.interned) < 8 {
		s.interned = append(s.interned, x)
	}
	return x
}

package spool

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
)

// lossRec is a loss record in the spool, at record idx of segment seg,
// and the drops it reports.
type lossRec struct {
	seg  uint64
	idx  int64
	drop Drop
}

// Drop is what a loss record reports: count records dropped, with
// seqs from..to numbered in boot (boot "": records whose seqs are not
// known, which the record reports by count alone).
type Drop struct {
	Boot     string
	From, To uint64
	Count    uint64
}

// Append adds one record and keeps it in the memory tail. When the spool is
// over its bound it drops the oldest segments and counts the unacknowledged
// records lost with them. The record is the event numbered seq in boot (0:
// not numbered), and loss is set for a loss record reporting drops. The
// spool keeps r.data: the caller must not change it.
func (s *Spool) Append(r Record, boot string, seq uint64, loss *Drop) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	pre := appendField(appendField(s.scratch[:0], r.Subject), r.ID)
	s.scratch = pre
	size := len(pre) + len(r.Data)
	last := s.segs[len(s.segs)-1]
	if last.size > 0 && last.size+int64(recHeader+size) > s.segBytes {
		if err := s.rotate(); err != nil {
			return err
		}
		last = s.segs[len(s.segs)-1]
	}
	var h [recHeader]byte
	binary.BigEndian.PutUint32(h[:4], uint32(size))
	binary.BigEndian.PutUint32(h[4:], crc32.Update(crc32.Checksum(pre, crcTable), crcTable, r.Data))
	if _, err := s.bw.Write(h[:]); err != nil {
		return fmt.Errorf("writing spool: %w", err)
	}
	if _, err := s.bw.Write(pre); err != nil {
		return fmt.Errorf("writing spool: %w", err)
	}
	if _, err := s.bw.Write(r.Data); err != nil {
		return fmt.Errorf("writing spool: %w", err)
	}
	s.unsynced = true
	if loss != nil {
		s.lossRecs = append(s.lossRecs, lossRec{seg: last.n, idx: last.count, drop: *loss})
	}
	last.note(boot, seq, last.count)
	at := Pos{seg: last.n, off: last.size, idx: last.count}
	n := int64(recHeader + size)
	last.size += n
	last.count++
	s.total += n
	s.pushTail(Entry{Record: r, At: at, Next: Pos{seg: last.n, off: last.size, idx: last.count}})
	for s.total > s.maxBytes && len(s.segs) > 1 {
		s.dropOldest()
	}
	return nil
}

func (s *Spool) pushTail(t Entry) {
	s.tail = append(s.tail, t)
	s.tailBytes += t.MemSize()
	for s.tailBytes > s.tailMax && s.tailHead < len(s.tail) {
		s.popTail()
	}
}

func (s *Spool) popTail() {
	s.tailBytes -= s.tail[s.tailHead].MemSize()
	s.tail[s.tailHead] = Entry{}
	s.tailHead++
	if s.tailHead == len(s.tail) {
		s.tail, s.tailHead = s.tail[:0], 0
	} else if s.tailHead >= 1024 && s.tailHead*2 >= len(s.tail) {
		n := copy(s.tail, s.tail[s.tailHead:])
		clear(s.tail[n:])
		s.tail, s.tailHead = s.tail[:n], 0
	}
}

func (s *Spool) rotate() error {
	if err := s.flushLocked(); err != nil {
		return err
	}
	if err := s.syncLocked(); err != nil {
		return err
	}
	if s.syncing {
		s.retired = append(s.retired, s.w)
	} else if err := s.w.Close(); err != nil {
		return fmt.Errorf("closing spool segment: %w", err)
	}
	n := s.segs[len(s.segs)-1].n + 1
	w, err := os.OpenFile(segName(s.dir, n), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("creating spool segment: %w", err)
	}
	s.w = w
	s.bw.Reset(w)
	s.flushed = 0
	s.segs = append(s.segs, &segment{n: n})
	s.dirSync = true
	return nil
}

func (s *Spool) dropOldest() {
	old := s.segs[0]
	// Records before cut were acknowledged, those before kept confirmed
	// stored too.
	idxOf := func(p Pos) int64 {
		switch {
		case p.seg == old.n:
			return p.idx
		case p.seg > old.n:
			return old.count
		}
		return 0
	}
	cut, kept := idxOf(s.acked), idxOf(s.committed)
	s.unconfirmedDropped += uint64(max(cut-kept, 0))
	lost := old.count - cut
	s.lostTotal += uint64(lost)
	for _, r := range old.runs {
		lo, hi := max(r.idx, cut), r.idx+r.n
		if lo < hi {
			from := r.from + uint64(lo-r.idx)
			s.addDrop(Drop{Boot: r.boot, From: from, To: from + uint64(hi-lo) - 1, Count: uint64(hi - lo)})
			lost -= hi - lo
		}
	}
	if lost > 0 {
		s.addDrop(Drop{Count: uint64(lost)})
	}
	keptLoss := s.lossRecs[:0]
	for _, l := range s.lossRecs {
		switch {
		case l.seg != old.n:
			keptLoss = append(keptLoss, l)
		case l.idx >= cut:
			s.addDrop(l.drop) // never delivered: report it again
		}
	}
	s.lossRecs = keptLoss
	s.removeOldest()
	for s.tailHead < len(s.tail) && s.tail[s.tailHead].At.seg <= old.n {
		s.popTail()
	}
	if s.committed.seg <= old.n {
		s.committed = Pos{seg: s.segs[0].n}
	}
	if s.acked.seg <= old.n {
		s.acked = Pos{seg: s.segs[0].n}
	}
}

// addDrop adds d to what the next loss records report: merged with the
// range of its boot (the records between two drops of a boot were dropped
// too, or delivered, which a receiver tells by the seqs it has).
func (s *Spool) addDrop(d Drop) {
	for i := range s.dropped {
		if e := &s.dropped[i]; e.Boot == d.Boot {
			e.Count += d.Count
			if d.Boot != "" {
				e.From, e.To = min(e.From, d.From), max(e.To, d.To)
			}
			return
		}
	}
	s.dropped = append(s.dropped, d)
}

// TakeDropped returns the records dropped since the last call, one range
// per boot.
func (s *Spool) TakeDropped() []Drop {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dropped
	s.dropped = nil
	return d
}

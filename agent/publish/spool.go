package publish

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// The spool is an append-only log of segments, <dir>/<n>.seg, each a run of
// records: 4-byte big-endian length, 4-byte CRC-32C of the payload, payload.
// Every event passes through it, so order is kept and an agent restart (or a
// kill -9) resumes from what was not yet acknowledged. <dir>/cursor names
// the first unacknowledged record: segment, offset and index, then their
// CRC-32C, in one fixed-width line rewritten in place. When the spool
// exceeds its bound the oldest segment goes, and the count of events lost
// with it is reported.
//
// A record's payload is uvarint length, subject, uvarint length, message id,
// event. The newest records are also kept in memory (the tail, up to
// tailMax bytes), so a sender keeping up never reads the file back; one
// that falls behind, or starts over after an error, reads the file.

const recHeader = 8

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// pos is a place in the spool: segment number, byte offset and the index of
// the record at that offset within its segment.
type pos struct {
	seg uint64
	off int64
	idx int64
}

func (p pos) before(q pos) bool {
	return p.seg < q.seg || p.seg == q.seg && p.off < q.off
}

// record is one message to publish: subject, Nats-Msg-Id and the event.
type record struct {
	subj, id string
	data     []byte
}

// memSize is what a record costs in the tail, roughly.
func (r *record) memSize() int64 { return int64(len(r.subj) + len(r.id) + len(r.data) + 96) }

// spoolRec is a record and where it sits in the spool: at, and next just
// after it.
type spoolRec struct {
	record
	at, next pos
}

// defaultTailMax bounds the memory tail: some seconds of events at the
// rates an agent sees, and a small part of its memory budget.
const defaultTailMax = 2 << 20

// lossRec is a loss record in the spool, at record idx of segment seg,
// and the drops it reports.
type lossRec struct {
	seg  uint64
	idx  int64
	drop dropRange
}

// dropRange is what a loss record reports: count records dropped, with
// seqs from..to numbered in boot (boot "": records whose seqs are not
// known, which the record reports by count alone).
type dropRange struct {
	boot     string
	from, to uint64
	count    uint64
}

type segment struct {
	n     uint64
	size  int64 // bytes, including what is still buffered
	count int64 // records
	// runs are the segment's records numbered in one boot with
	// consecutive seqs, in order; records without a seq are in none.
	runs []seqRun
}

// seqRun is records idx..idx+n-1 of a segment, whose seqs are from.. in
// boot.
type seqRun struct {
	boot string
	from uint64
	idx  int64
	n    int64
}

// note adds the record at idx of sg, numbered seq in boot, to its runs
// (seq 0: a record without one, in none).
func (sg *segment) note(boot string, seq uint64, idx int64) {
	if seq == 0 {
		return
	}
	if k := len(sg.runs) - 1; k >= 0 {
		r := &sg.runs[k]
		if r.boot == boot && r.from+uint64(r.n) == seq && r.idx+r.n == idx {
			r.n++
			return
		}
	}
	sg.runs = append(sg.runs, seqRun{boot: boot, from: seq, idx: idx, n: 1})
}

// seqOfID is the boot and seq of an event id as event.MakeID makes it
// ("boot-seq"); seq 0 when id is not one.
func seqOfID(id string) (boot string, seq uint64) {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 {
		return "", 0
	}
	seq, err := strconv.ParseUint(id[i+1:], 10, 64)
	if err != nil {
		return "", 0
	}
	return id[:i], seq
}

type spool struct {
	dir      string
	maxBytes int64
	segBytes int64

	mu        sync.Mutex
	segs      []*segment // oldest first; the last is written to
	w         *os.File
	bw        *bufio.Writer
	flushed   int64 // bytes of the write segment on disk
	total     int64
	committed pos
	saved     pos // committed as last written to the cursor file
	cursor    *os.File
	// dropped are the records lost and not yet reported in a loss
	// record, one range per boot.
	dropped   []dropRange
	lostTotal uint64 // records dropped since open
	// lossRecs are the loss records still in the spool. When one is dropped
	// too, what it reported goes back to dropped, so the reported total
	// stays exact.
	lossRecs []lossRec
	closed   bool

	rf    *os.File // read handle and the segment it reads
	rfSeg uint64
	br    *bufio.Reader // reads rf from brOff up to brEnd (brOff -1: not positioned)
	brOff int64
	brEnd int64
	arena []byte // data of the records readBatch returned from the file

	tail      []spoolRec // newest records, oldest first from tailHead
	tailHead  int
	tailBytes int64
	tailMax   int64

	fileReads uint64 // records read back from a segment file

	scratch  []byte // a record's payload prefix being written
	interned []string
}

var errSpoolClosed = errors.New("spool closed")

func segName(dir string, n uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%016d.seg", n))
}

// openSpool opens (or creates) the spool in dir, truncating a torn record at
// the end of the last segment (a crash mid-write).
func openSpool(dir string, maxBytes int64) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating spool directory: %w", err)
	}
	segBytes := int64(8 << 20)
	if segBytes > maxBytes/4 {
		segBytes = max(maxBytes/4, 4<<10)
	}
	s := &spool{dir: dir, maxBytes: maxBytes, segBytes: segBytes, tailMax: defaultTailMax, brOff: -1}
	names, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		return nil, err
	}
	var nums []uint64
	for _, name := range names {
		n, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(name), ".seg"), 10, 64)
		if err == nil {
			nums = append(nums, n)
		}
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	for i, n := range nums {
		sg := &segment{n: n}
		if err := scanSegment(segName(dir, n), i == len(nums)-1, sg); err != nil {
			return nil, err
		}
		s.segs = append(s.segs, sg)
		s.total += sg.size
	}
	if len(s.segs) == 0 {
		s.segs = []*segment{{n: 1}}
	}
	last := s.segs[len(s.segs)-1]
	if s.w, err = os.OpenFile(segName(dir, last.n), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return nil, fmt.Errorf("opening spool segment: %w", err)
	}
	s.bw = bufio.NewWriterSize(s.w, 64<<10)
	s.flushed = last.size
	s.committed = s.readCursor()
	s.saved = s.committed
	return s, nil
}

// scanSegment counts a segment's whole records into sg, and notes their
// seqs; in the last segment a torn or corrupt tail is cut off so appends
// continue from a clean end.
func scanSegment(path string, last bool, sg *segment) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("opening spool segment: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var buf []byte
	for {
		n, err := readRecord(r, &buf)
		if err != nil {
			break
		}
		if _, id, _, err := splitRecord(buf); err == nil {
			boot, seq := seqOfID(string(id))
			sg.note(boot, seq, sg.count)
		}
		sg.size += int64(recHeader + n)
		sg.count++
	}
	if st, err := f.Stat(); err == nil && st.Size() != sg.size && last {
		if err := f.Truncate(sg.size); err != nil {
			return fmt.Errorf("truncating torn spool record: %w", err)
		}
	}
	return nil
}

// readRecord reads one record into buf (when it has room; nil to skip) and
// returns the payload length.
func readRecord(r io.Reader, buf *[]byte) (int, error) {
	var h [recHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, err
	}
	n := binary.BigEndian.Uint32(h[:4])
	if n > 16<<20 {
		return 0, fmt.Errorf("spool record of %d bytes: corrupt", n)
	}
	var data []byte
	if buf != nil && cap(*buf) >= int(n) {
		data = (*buf)[:n]
	} else {
		data = make([]byte, n)
	}
	if _, err := io.ReadFull(r, data); err != nil {
		return 0, err
	}
	if crc32.Checksum(data, crcTable) != binary.BigEndian.Uint32(h[4:]) {
		return 0, errors.New("spool record checksum mismatch")
	}
	if buf != nil {
		*buf = data
	}
	return int(n), nil
}

// cursorLine is the cursor file's content for p: fixed width, so each save
// overwrites the last in place, and checksummed, so a torn write (a power
// cut) reads as no cursor, which only resends, rather than as a position
// in the middle of a record.
func cursorLine(p pos) []byte {
	b := fmt.Appendf(nil, "%020d %020d %020d", p.seg, p.off, p.idx)
	return fmt.Appendf(b, " %08x\n", crc32.Checksum(b, crcTable))
}

func (s *spool) readCursor() pos {
	first := pos{seg: s.segs[0].n}
	b, err := os.ReadFile(filepath.Join(s.dir, "cursor"))
	if err != nil {
		return first
	}
	var p pos
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

// append adds one record and keeps it in the memory tail. When the spool is
// over its bound it drops the oldest segments and counts the unacknowledged
// records lost with them. The record is the event numbered seq in boot (0:
// not numbered), and loss is set for a loss record reporting drops. The
// spool keeps r.data: the caller must not change it.
func (s *spool) append(r record, boot string, seq uint64, loss *dropRange) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errSpoolClosed
	}
	pre := appendField(appendField(s.scratch[:0], r.subj), r.id)
	s.scratch = pre
	size := len(pre) + len(r.data)
	last := s.segs[len(s.segs)-1]
	if last.size > 0 && last.size+int64(recHeader+size) > s.segBytes {
		if err := s.rotate(); err != nil {
			return err
		}
		last = s.segs[len(s.segs)-1]
	}
	var h [recHeader]byte
	binary.BigEndian.PutUint32(h[:4], uint32(size))
	binary.BigEndian.PutUint32(h[4:], crc32.Update(crc32.Checksum(pre, crcTable), crcTable, r.data))
	if _, err := s.bw.Write(h[:]); err != nil {
		return fmt.Errorf("writing spool: %w", err)
	}
	if _, err := s.bw.Write(pre); err != nil {
		return fmt.Errorf("writing spool: %w", err)
	}
	if _, err := s.bw.Write(r.data); err != nil {
		return fmt.Errorf("writing spool: %w", err)
	}
	if loss != nil {
		s.lossRecs = append(s.lossRecs, lossRec{seg: last.n, idx: last.count, drop: *loss})
	}
	last.note(boot, seq, last.count)
	at := pos{seg: last.n, off: last.size, idx: last.count}
	n := int64(recHeader + size)
	last.size += n
	last.count++
	s.total += n
	s.pushTail(spoolRec{record: r, at: at, next: pos{seg: last.n, off: last.size, idx: last.count}})
	for s.total > s.maxBytes && len(s.segs) > 1 {
		s.dropOldest()
	}
	return nil
}

func (s *spool) pushTail(t spoolRec) {
	s.tail = append(s.tail, t)
	s.tailBytes += t.memSize()
	for s.tailBytes > s.tailMax && s.tailHead < len(s.tail) {
		s.popTail()
	}
}

func (s *spool) popTail() {
	s.tailBytes -= s.tail[s.tailHead].memSize()
	s.tail[s.tailHead] = spoolRec{}
	s.tailHead++
	if s.tailHead == len(s.tail) {
		s.tail, s.tailHead = s.tail[:0], 0
	} else if s.tailHead >= 1024 && s.tailHead*2 >= len(s.tail) {
		n := copy(s.tail, s.tail[s.tailHead:])
		clear(s.tail[n:])
		s.tail, s.tailHead = s.tail[:n], 0
	}
}

// tailAt returns the tail record at p, if the tail still has it.
func (s *spool) tailAt(p pos) *spoolRec {
	t := s.tail[s.tailHead:]
	i := sort.Search(len(t), func(i int) bool { return !t[i].at.before(p) })
	if i < len(t) && t[i].at.seg == p.seg && t[i].at.off == p.off {
		return &t[i]
	}
	return nil
}

func (s *spool) rotate() error {
	if err := s.flushLocked(); err != nil {
		return err
	}
	if err := s.w.Close(); err != nil {
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
	return nil
}

func (s *spool) dropOldest() {
	old := s.segs[0]
	// Records before cut were acknowledged.
	var cut int64
	if s.committed.seg == old.n {
		cut = s.committed.idx
	} else if s.committed.seg > old.n {
		cut = old.count
	}
	lost := old.count - cut
	s.lostTotal += uint64(lost)
	for _, r := range old.runs {
		lo, hi := max(r.idx, cut), r.idx+r.n
		if lo < hi {
			from := r.from + uint64(lo-r.idx)
			s.addDrop(dropRange{boot: r.boot, from: from, to: from + uint64(hi-lo) - 1, count: uint64(hi - lo)})
			lost -= hi - lo
		}
	}
	if lost > 0 {
		s.addDrop(dropRange{count: uint64(lost)})
	}
	kept := s.lossRecs[:0]
	for _, l := range s.lossRecs {
		switch {
		case l.seg != old.n:
			kept = append(kept, l)
		case l.idx >= cut:
			s.addDrop(l.drop) // never delivered: report it again
		}
	}
	s.lossRecs = kept
	s.removeOldest()
	for s.tailHead < len(s.tail) && s.tail[s.tailHead].at.seg <= old.n {
		s.popTail()
	}
	if s.committed.seg <= old.n {
		s.committed = pos{seg: s.segs[0].n}
	}
}

// lost counts records dropped since the spool was opened.
func (s *spool) lost() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lostTotal
}

// addDrop adds d to what the next loss records report: merged with the
// range of its boot (the records between two drops of a boot were dropped
// too, or delivered, which a receiver tells by the seqs it has).
func (s *spool) addDrop(d dropRange) {
	for i := range s.dropped {
		if e := &s.dropped[i]; e.boot == d.boot {
			e.count += d.count
			if d.boot != "" {
				e.from, e.to = min(e.from, d.from), max(e.to, d.to)
			}
			return
		}
	}
	s.dropped = append(s.dropped, d)
}

// takeDropped returns the records dropped since the last call, one range
// per boot.
func (s *spool) takeDropped() []dropRange {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dropped
	s.dropped = nil
	return d
}

func (s *spool) flushLocked() error {
	if s.bw.Buffered() == 0 {
		return nil
	}
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("flushing spool: %w", err)
	}
	s.flushed = s.segs[len(s.segs)-1].size
	return nil
}

// flush writes buffered records to the segment file (the page cache keeps
// them across a crash of the agent) and saves the cursor if it moved.
func (s *spool) flush() error {
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
// kept open (a new file and a rename each time cost eight system calls,
// five times a second).
func (s *spool) saveCursorLocked() error {
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

// start is where reading resumes: the first unacknowledged record.
func (s *spool) start() pos {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.committed
}

// readBatch appends up to limit records from p on to dst and returns the
// position after them (or, with an error, of the record it could not read); it returns fewer at the end of the spool. Records
// come from the memory tail when it still has them and from the segment
// files otherwise; the data of those read from a file is only valid until
// the next readBatch. A p in a dropped segment moves to the oldest record
// still kept.
func (s *spool) readBatch(p pos, limit int, dst []spoolRec) ([]spoolRec, pos, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return dst, p, errSpoolClosed
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
			p = t.next
			continue
		}
		r, next, err := s.readFile(sg, p)
		if err != nil {
			return dst, p, err
		}
		dst = append(dst, spoolRec{record: r, at: p, next: next})
		p = next
	}
	return dst, p, nil
}

// locate finds the segment of p, moving a p in a dropped segment to the
// oldest record kept and one past the end of a finished segment to the
// start of the next.
func (s *spool) locate(p pos) (pos, *segment) {
	if p.seg < s.segs[0].n {
		p = pos{seg: s.segs[0].n}
	}
	for i, x := range s.segs {
		if x.n != p.seg {
			continue
		}
		for p.off >= x.size && i < len(s.segs)-1 {
			i++
			x = s.segs[i]
			p = pos{seg: x.n}
		}
		return p, x
	}
	return p, nil
}

// skipSegment is where reading goes on after a record at p that cannot be
// read: the next segment, or the end of the spool.
func (s *spool) skipSegment(p pos) pos {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.segs {
		if x.n > p.seg {
			return pos{seg: x.n}
		}
	}
	last := s.segs[len(s.segs)-1]
	return pos{seg: last.n, off: last.size, idx: last.count}
}

// hasAfter says whether there is a record at or after p.
func (s *spool) hasAfter(p pos) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, sg := s.locate(p)
	return sg != nil && p.off < sg.size
}

// readFile reads the record at p from segment sg.
func (s *spool) readFile(sg *segment, p pos) (record, pos, error) {
	if sg == s.segs[len(s.segs)-1] && p.off >= s.flushed {
		if err := s.flushLocked(); err != nil {
			return record{}, p, err
		}
	}
	if s.rf == nil || s.rfSeg != sg.n {
		s.closeReader(s.rfSeg)
		var err error
		if s.rf, err = os.Open(segName(s.dir, sg.n)); err != nil {
			s.rf = nil
			return record{}, p, fmt.Errorf("reading spool: %w", err)
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
		return record{}, p, fmt.Errorf("reading spool segment %d at %d: %w", sg.n, p.off, err)
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
		return record{}, p, fmt.Errorf("reading spool segment %d at %d: %w", sg.n, p.off, err)
	}
	return record{subj: s.intern(subj), id: string(id), data: data},
		pos{seg: sg.n, off: p.off + int64(recHeader+n), idx: p.idx + 1}, nil
}

// intern returns a string for subj without allocating for the few
// subjects an agent publishes to.
func (s *spool) intern(subj []byte) string {
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

// splitRecord splits a record's payload into subject, message id and event.
func splitRecord(rec []byte) (subj, id, data []byte, err error) {
	subj, rec, ok := cutField(rec)
	if ok {
		id, rec, ok = cutField(rec)
	}
	if !ok {
		return nil, nil, nil, errors.New("bad spool record")
	}
	return subj, id, rec, nil
}

// appendField appends f with its uvarint length before it.
func appendField(b []byte, f string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(f))), f...)
}

// cutField cuts a field appendField wrote off the front of b.
func cutField(b []byte) (f, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// commit marks every record before p as delivered and removes segments
// wholly behind it. The cursor file is saved on the next flush.
func (s *spool) commit(p pos) {
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
	for s.tailHead < len(s.tail) && !p.before(s.tail[s.tailHead].next) {
		s.popTail()
	}
}

// removeOldest removes the oldest segment and its file.
func (s *spool) removeOldest() {
	old := s.segs[0]
	s.segs = s.segs[1:]
	s.total -= old.size
	s.closeReader(old.n)
	os.Remove(segName(s.dir, old.n))
}

// closeReader closes the read handle if it is on segment n.
func (s *spool) closeReader(n uint64) {
	if s.rf != nil && s.rfSeg == n {
		s.rf.Close()
		s.rf = nil
		s.brOff = -1
	}
}

// depth counts the records not yet delivered.
func (s *spool) depth() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, sg := range s.segs {
		switch {
		case sg.n == s.committed.seg:
			n += sg.count - s.committed.idx
		case sg.n > s.committed.seg:
			n += sg.count
		}
	}
	return uint64(max(n, 0))
}

func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	err := errors.Join(s.flushLocked(), s.saveCursorLocked())
	s.closed = true
	s.closeReader(s.rfSeg)
	if s.cursor != nil {
		err = errors.Join(err, s.cursor.Close())
	}
	return errors.Join(err, s.w.Close())
}

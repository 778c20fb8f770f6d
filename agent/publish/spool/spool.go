package spool

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// DefaultTailMax bounds the memory tail: some seconds of events at the
// rates an agent sees, and a small part of its memory budget.
const DefaultTailMax = 2 << 20

type Spool struct {
	dir      string
	maxBytes int64
	segBytes int64

	// flushMu makes flushes take turns; it is taken before mu.
	flushMu sync.Mutex
	mu      sync.Mutex
	segs    []*segment // oldest first; the last is written to
	w       *os.File
	bw      *bufio.Writer
	flushed int64 // bytes of the write segment on disk
	total   int64
	// acked is the first record JetStream has not acknowledged, committed
	// the first the collector has not confirmed stored: records between
	// them are delivered but kept, since a server that loses power before
	// syncing loses what it acknowledged. committed is never after acked.
	acked, committed Pos
	saved            [2]Pos // committed and acked as last written to the cursor file
	// unsynced says records were written since the segment was last
	// synced; dirSync that a segment file was made since the directory was.
	unsynced, dirSync bool
	noSync            bool
	// syncing says a flush syncs the write segment outside mu: a rotation
	// then leaves the file to it to close, in retired.
	syncing bool
	retired []*os.File
	// syncFile syncs a segment file: (*os.File).Sync, which tests wrap to
	// hold a sync in progress.
	syncFile func(*os.File) error
	// unconfirmedDropped counts acknowledged, unconfirmed records a full
	// spool dropped: not loss, JetStream has them.
	unconfirmedDropped uint64
	cursor             *os.File
	// dropped are the records lost and not yet reported in a loss
	// record, one range per boot.
	dropped   []Drop
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

	tail      []Entry // newest records, oldest first from tailHead
	tailHead  int
	tailBytes int64
	tailMax   int64

	fileReads uint64 // records read back from a segment file

	scratch  []byte // a record's payload prefix being written
	interned []string
}

var ErrClosed = errors.New("spool closed")

func segName(dir string, n uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%016d.seg", n))
}

// Open opens (or creates) the spool in dir, truncating a torn record at
// the end of the last segment (a crash mid-write).
func Open(dir string, maxBytes int64) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating spool directory: %w", err)
	}
	segBytes := int64(8 << 20)
	if segBytes > maxBytes/4 {
		segBytes = max(maxBytes/4, 4<<10)
	}
	s := &Spool{dir: dir, maxBytes: maxBytes, segBytes: segBytes, tailMax: DefaultTailMax, brOff: -1, syncFile: (*os.File).Sync}
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
	s.committed, s.acked = s.readCursor()
	s.saved = [2]Pos{s.committed, s.acked}
	return s, nil
}

// Lost counts records dropped since the spool was opened.
func (s *Spool) Lost() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lostTotal
}

// Start is where a resend begins: the first record the collector has not
// confirmed stored.
func (s *Spool) Start() Pos {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.committed
}

// Acked is the first record JetStream has not acknowledged.
func (s *Spool) Acked() Pos {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked
}

// UnconfirmedDropped counts records a full spool dropped after JetStream
// acknowledged them but before the collector confirmed them stored.
func (s *Spool) UnconfirmedDropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unconfirmedDropped
}

// removeOldest removes the oldest segment and its file.
func (s *Spool) removeOldest() {
	old := s.segs[0]
	s.segs = s.segs[1:]
	s.total -= old.size
	s.closeReader(old.n)
	os.Remove(segName(s.dir, old.n))
}

// closeReader closes the read handle if it is on segment n.
func (s *Spool) closeReader(n uint64) {
	if s.rf != nil && s.rfSeg == n {
		s.rf.Close()
		s.rf = nil
		s.brOff = -1
	}
}

// Depth counts the records not yet acknowledged.
func (s *Spool) Depth() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.countFrom(s.acked)
}

// Unconfirmed counts the records acknowledged but not yet confirmed
// stored.
func (s *Spool) Unconfirmed() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.countFrom(s.committed) - s.countFrom(s.acked)
}

// countFrom counts the records from p on.
func (s *Spool) countFrom(p Pos) uint64 {
	var n int64
	for _, sg := range s.segs {
		switch {
		case sg.n == p.seg:
			n += sg.count - p.idx
		case sg.n > p.seg:
			n += sg.count
		}
	}
	return uint64(max(n, 0))
}

func (s *Spool) Close() error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	err := errors.Join(s.flushLocked(), s.syncLocked(), s.saveCursorLocked(s.committed, s.acked))
	s.closed = true
	s.closeReader(s.rfSeg)
	if s.cursor != nil {
		err = errors.Join(err, s.cursor.Close())
	}
	return errors.Join(err, s.w.Close())
}

// SetTailMax bounds the memory tail to n bytes.
func (s *Spool) SetTailMax(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tailMax = n
}

// FileReads counts the records read back from segment files rather than
// the memory tail.
func (s *Spool) FileReads() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fileReads
}

package spool

import (
	"bufio"
	"fmt"
	"os"

	"github.com/vigilhq/vigil/event"
)

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
			boot, seq := event.SplitID(string(id))
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

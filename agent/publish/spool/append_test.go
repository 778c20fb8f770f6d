package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/event"
)

func TestSpoolFullDropsOldestAndCounts(t *testing.T) {
	dir := t.TempDir()
	// 64 KiB bound: 16 KiB segments.
	s, err := Open(dir, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 300
	for i := range n {
		rec := make([]byte, 1000-recHeader-40)
		copy(rec, fmt.Sprintf("%05d", i))
		appendData(t, s, rec)
	}
	s.Flush()
	var onDisk int64
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	for _, f := range files {
		st, _ := os.Stat(f)
		onDisk += st.Size()
	}
	if onDisk > 64<<10 {
		t.Fatalf("spool holds %d bytes, over its 64 KiB bound", onDisk)
	}
	dropped := droppedCount(s.TakeDropped())
	got, _ := readAll(t, s, s.Start())
	if dropped == 0 || uint64(len(got))+dropped != n {
		t.Fatalf("dropped %d + kept %d != %d appended", dropped, len(got), n)
	}
	// The newest are kept, in order.
	if got[len(got)-1][:5] != fmt.Sprintf("%05d", n-1) || got[0][:5] != fmt.Sprintf("%05d", dropped) {
		t.Fatalf("kept %q..%q after dropping %d", got[0][:5], got[len(got)-1][:5], dropped)
	}
	if d := s.TakeDropped(); len(d) != 0 {
		t.Fatalf("takeDropped counted twice: %+v", d)
	}
}

func droppedCount(ds []Drop) (n uint64) {
	for _, d := range ds {
		n += d.Count
	}
	return n
}

// appendSeq appends an event numbered seq in boot, its id as the agent
// makes it ("boot-seq"), padded so that a 64 KiB spool overflows soon.
func appendSeq(t *testing.T, s *Spool, boot string, seq uint64, loss *Drop) {
	t.Helper()
	data := fmt.Appendf(nil, "%s-%d-%s", boot, seq, strings.Repeat("x", 900))
	if err := s.Append(Record{Subject: testSubj, ID: event.MakeID(boot, seq), Data: data}, boot, seq, loss); err != nil {
		t.Fatal(err)
	}
}

// A spool overflow is reported as the range of seqs the dropped records
// had, per boot: after an acknowledged part (not lost), across a restart
// (the segments' seqs are read back from the records), and again when a
// loss record is dropped before it was delivered.
func TestSpoolDropsAreReportedBySeqRange(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 64<<10) // 16 KiB segments, ~17 records each
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 40; seq++ {
		appendSeq(t, s, "b1", seq, nil)
	}
	// The first 5 are acknowledged.
	recs, _, err := s.ReadBatch(s.Start(), 5, nil)
	if err != nil || len(recs) != 5 {
		t.Fatalf("read %d records: %v", len(recs), err)
	}
	s.Commit(recs[4].Next)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, 64<<10); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.segs[0].runs) != 1 || s.segs[0].runs[0] != (seqRun{boot: "b1", from: 1, idx: 0, n: s.segs[0].count}) {
		t.Fatalf("first segment read back with runs %+v (%d records)", s.segs[0].runs, s.segs[0].count)
	}
	first := s.segs[0].count
	var seq uint64
	for seq = 1; len(s.dropped) == 0; seq++ {
		appendSeq(t, s, "b2", seq, nil)
	}
	got := s.TakeDropped()
	want := []Drop{{Boot: "b1", From: 6, To: uint64(first), Count: uint64(first) - 5}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the first drop: %+v, want %+v", got, want)
	}
	// A loss record reporting it, then more drops, until the record's
	// own segment goes undelivered: its range comes back, merged with
	// what is dropped with it.
	lossAt := seq
	appendSeq(t, s, "b2", seq, &got[0])
	lossSeg := s.segs[len(s.segs)-1].n
	var all []Drop
	for seq++; s.segs[0].n <= lossSeg; seq++ {
		appendSeq(t, s, "b2", seq, nil)
		all = append(all, s.TakeDropped()...)
	}
	var b1, b2 []Drop
	for _, d := range all {
		if d.Boot == "b1" {
			b1 = append(b1, d)
		} else {
			b2 = append(b2, d)
		}
	}
	// b1's later records were dropped once each, and the lost loss
	// record's range is reported again, as it was.
	times := map[uint64]int{}
	for _, d := range b1 {
		if d.Count != d.To-d.From+1 {
			t.Errorf("b1 drop %+v: one count per seq wanted", d)
		}
		for q := d.From; q <= d.To; q++ {
			times[q]++
		}
	}
	for q := uint64(6); q <= 40; q++ {
		if times[q] != 1 {
			t.Fatalf("b1's seq %d reported %d times after the first drop (%+v), want once", q, times[q], b1)
		}
	}
	// b2's records were never acknowledged: its ranges follow each other
	// from seq 1, the loss record among them, one count per seq.
	next := uint64(1)
	for _, d := range b2 {
		if d.From != next || d.Count != d.To-d.From+1 {
			t.Fatalf("b2's drops %+v: want ranges following each other from seq 1, one count per seq", b2)
		}
		next = d.To + 1
	}
	if next <= lossAt {
		t.Fatalf("b2's drops %+v do not reach the loss record's seq %d", b2, lossAt)
	}
	if total := s.Lost(); total != droppedCount(all)-want[0].Count+uint64(first)-5 {
		t.Errorf("lost() %d, want every record dropped once (%d reported, %d of them again)", total, droppedCount(all), want[0].Count)
	}
}

func TestSpoolTailAfterDropOldest(t *testing.T) {
	s, err := Open(t.TempDir(), 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetTailMax(24 << 10) // more than a segment, less than the spool
	from := s.Start()
	var want []string
	for i := range 600 {
		appendData(t, s, payload(i))
		want = append(want, string(payload(i)))
	}
	dropped := droppedCount(s.TakeDropped())
	if dropped == 0 {
		t.Fatal("nothing dropped from a full spool")
	}
	s.mu.Lock()
	for _, r := range s.tail[s.tailHead:] {
		if r.At.seg < s.segs[0].n {
			t.Errorf("memory tail keeps a record of dropped segment %d", r.At.seg)
		}
	}
	s.mu.Unlock()
	inTail := tailLen(s)
	// A reader left in a dropped segment goes on from the oldest kept.
	got, _ := readAll(t, s, from)
	if !slices.Equal(got, want[dropped:]) {
		t.Fatalf("read %d records, want the %d kept after %d dropped, in order", len(got), 600-dropped, dropped)
	}
	if n := s.FileReads(); n != uint64(len(got)-inTail) {
		t.Fatalf("%d records read from the file, want %d", n, len(got)-inTail)
	}
}

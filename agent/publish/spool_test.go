package publish

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/event"
)

// readAll reads every record from from on, in batches of a few, and returns
// their data.
func readAll(t *testing.T, s *spool, from pos) ([]string, pos) {
	t.Helper()
	var out []string
	p := from
	for {
		recs, next, err := s.readBatch(p, 7, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return out, p
		}
		for _, r := range recs {
			if r.subj != testSubj {
				t.Fatalf("record %q has subject %q", r.data, r.subj)
			}
			out = append(out, string(r.data))
		}
		p = next
	}
}

const testSubj = "vigil.leeds.ag-1.events"

func appendData(t *testing.T, s *spool, data []byte) {
	t.Helper()
	if err := s.append(record{subj: testSubj, id: "id-" + string(data[:min(len(data), 8)]), data: data}, "", 0, nil); err != nil {
		t.Fatal(err)
	}
}

// openHundred opens a spool in dir and appends rec-000 to rec-099.
func openHundred(t *testing.T, dir string) *spool {
	t.Helper()
	s, err := openSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		appendData(t, s, fmt.Appendf(nil, "rec-%03d", i))
	}
	return s
}

func TestSpoolOrderCommitAndRestart(t *testing.T) {
	dir := t.TempDir()
	s := openHundred(t, dir)
	got, _ := readAll(t, s, s.start())
	if len(got) != 100 || got[0] != "rec-000" || got[99] != "rec-099" {
		t.Fatalf("read %d records, first %q", len(got), got[0])
	}
	// Commit the first 40 and restart: reading resumes at the 41st.
	recs, p, _ := s.readBatch(s.start(), 40, nil)
	if len(recs) != 40 || recs[39].next != p {
		t.Fatalf("read %d records, last ending at %v, batch at %v", len(recs), recs[39].next, p)
	}
	s.commit(p)
	if d := s.depth(); d != 60 {
		t.Fatalf("depth %d, want 60", d)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	s, err := openSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	got, _ = readAll(t, s, s.start())
	if len(got) != 60 || got[0] != "rec-040" {
		t.Fatalf("after restart read %d records starting %q, want 60 from rec-040", len(got), got[0])
	}
	if d := s.depth(); d != 60 {
		t.Fatalf("depth after restart %d, want 60", d)
	}
}

func TestSpoolTornTailIsCut(t *testing.T) {
	dir := t.TempDir()
	s, err := openSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		appendData(t, s, fmt.Appendf(nil, "rec-%d", i))
	}
	s.close()
	// A crash mid-write leaves half a record.
	f, _ := os.OpenFile(filepath.Join(dir, "0000000000000001.seg"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{0, 0, 0, 9, 1, 2})
	f.Close()
	s, err = openSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	appendData(t, s, []byte("rec-3"))
	got, _ := readAll(t, s, s.start())
	if fmt.Sprint(got) != "[rec-0 rec-1 rec-2 rec-3]" {
		t.Fatalf("got %v", got)
	}
}

func TestSpoolFullDropsOldestAndCounts(t *testing.T) {
	dir := t.TempDir()
	// 64 KiB bound: 16 KiB segments.
	s, err := openSpool(dir, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	const n = 300
	for i := range n {
		rec := make([]byte, 1000-recHeader-40)
		copy(rec, fmt.Sprintf("%05d", i))
		appendData(t, s, rec)
	}
	s.flush()
	var onDisk int64
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	for _, f := range files {
		st, _ := os.Stat(f)
		onDisk += st.Size()
	}
	if onDisk > 64<<10 {
		t.Fatalf("spool holds %d bytes, over its 64 KiB bound", onDisk)
	}
	dropped := droppedCount(s.takeDropped())
	got, _ := readAll(t, s, s.start())
	if dropped == 0 || uint64(len(got))+dropped != n {
		t.Fatalf("dropped %d + kept %d != %d appended", dropped, len(got), n)
	}
	// The newest are kept, in order.
	if got[len(got)-1][:5] != fmt.Sprintf("%05d", n-1) || got[0][:5] != fmt.Sprintf("%05d", dropped) {
		t.Fatalf("kept %q..%q after dropping %d", got[0][:5], got[len(got)-1][:5], dropped)
	}
	if d := s.takeDropped(); len(d) != 0 {
		t.Fatalf("takeDropped counted twice: %+v", d)
	}
}

// TestSpoolCursorFile checks the cursor file across restarts: a cursor
// saved twice in place is read back, one written by an earlier version
// ("seg off idx") is still honoured, and a torn or corrupt one resends
// from the first record rather than resuming mid-record.
func TestSpoolCursorFile(t *testing.T) {
	dir := t.TempDir()
	s := openHundred(t, dir)
	recs, p10, _ := s.readBatch(s.start(), 10, nil)
	s.commit(p10)
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	recs, p40, _ := s.readBatch(p10, 30, nil)
	if len(recs) != 30 {
		t.Fatalf("read %d records, want 30", len(recs))
	}
	s.commit(p40)
	if err := s.close(); err != nil {
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
		s, err := openSpool(dir, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		got, _ := readAll(t, s, s.start())
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

func droppedCount(ds []dropRange) (n uint64) {
	for _, d := range ds {
		n += d.count
	}
	return n
}

// appendSeq appends an event numbered seq in boot, its id as the agent
// makes it ("boot-seq"), padded so that a 64 KiB spool overflows soon.
func appendSeq(t *testing.T, s *spool, boot string, seq uint64, loss *dropRange) {
	t.Helper()
	data := fmt.Appendf(nil, "%s-%d-%s", boot, seq, strings.Repeat("x", 900))
	if err := s.append(record{subj: testSubj, id: event.MakeID(boot, seq), data: data}, boot, seq, loss); err != nil {
		t.Fatal(err)
	}
}

// A spool overflow is reported as the range of seqs the dropped records
// had, per boot: after an acknowledged part (not lost), across a restart
// (the segments' seqs are read back from the records), and again when a
// loss record is dropped before it was delivered.
func TestSpoolDropsAreReportedBySeqRange(t *testing.T) {
	dir := t.TempDir()
	s, err := openSpool(dir, 64<<10) // 16 KiB segments, ~17 records each
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 40; seq++ {
		appendSeq(t, s, "b1", seq, nil)
	}
	// The first 5 are acknowledged.
	recs, _, err := s.readBatch(s.start(), 5, nil)
	if err != nil || len(recs) != 5 {
		t.Fatalf("read %d records: %v", len(recs), err)
	}
	s.commit(recs[4].next)
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	if s, err = openSpool(dir, 64<<10); err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if len(s.segs[0].runs) != 1 || s.segs[0].runs[0] != (seqRun{boot: "b1", from: 1, idx: 0, n: s.segs[0].count}) {
		t.Fatalf("first segment read back with runs %+v (%d records)", s.segs[0].runs, s.segs[0].count)
	}
	first := s.segs[0].count
	var seq uint64
	for seq = 1; len(s.dropped) == 0; seq++ {
		appendSeq(t, s, "b2", seq, nil)
	}
	got := s.takeDropped()
	want := []dropRange{{boot: "b1", from: 6, to: uint64(first), count: uint64(first) - 5}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the first drop: %+v, want %+v", got, want)
	}
	// A loss record reporting it, then more drops, until the record's
	// own segment goes undelivered: its range comes back, merged with
	// what is dropped with it.
	lossAt := seq
	appendSeq(t, s, "b2", seq, &got[0])
	lossSeg := s.segs[len(s.segs)-1].n
	var all []dropRange
	for seq++; s.segs[0].n <= lossSeg; seq++ {
		appendSeq(t, s, "b2", seq, nil)
		all = append(all, s.takeDropped()...)
	}
	var b1, b2 []dropRange
	for _, d := range all {
		if d.boot == "b1" {
			b1 = append(b1, d)
		} else {
			b2 = append(b2, d)
		}
	}
	// b1's later records were dropped once each, and the lost loss
	// record's range is reported again, as it was.
	times := map[uint64]int{}
	for _, d := range b1 {
		if d.count != d.to-d.from+1 {
			t.Errorf("b1 drop %+v: one count per seq wanted", d)
		}
		for q := d.from; q <= d.to; q++ {
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
		if d.from != next || d.count != d.to-d.from+1 {
			t.Fatalf("b2's drops %+v: want ranges following each other from seq 1, one count per seq", b2)
		}
		next = d.to + 1
	}
	if next <= lossAt {
		t.Fatalf("b2's drops %+v do not reach the loss record's seq %d", b2, lossAt)
	}
	if total := s.lost(); total != droppedCount(all)-want[0].count+uint64(first)-5 {
		t.Errorf("lost() %d, want every record dropped once (%d reported, %d of them again)", total, droppedCount(all), want[0].count)
	}
}

package publish

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
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
	if err := s.append(record{subj: testSubj, id: "id-" + string(data[:min(len(data), 8)]), data: data}, 0); err != nil {
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
	dropped := s.takeDropped()
	got, _ := readAll(t, s, s.start())
	if dropped == 0 || uint64(len(got))+dropped != n {
		t.Fatalf("dropped %d + kept %d != %d appended", dropped, len(got), n)
	}
	// The newest are kept, in order.
	if got[len(got)-1][:5] != fmt.Sprintf("%05d", n-1) || got[0][:5] != fmt.Sprintf("%05d", dropped) {
		t.Fatalf("kept %q..%q after dropping %d", got[0][:5], got[len(got)-1][:5], dropped)
	}
	if s.takeDropped() != 0 {
		t.Fatal("takeDropped counted twice")
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

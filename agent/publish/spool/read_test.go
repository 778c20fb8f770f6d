package spool

import (
	"slices"
	"testing"
)

func TestSpoolTailServesAReaderKeepingUpAcrossRotation(t *testing.T) {
	s, err := Open(t.TempDir(), 64<<10) // 16 KiB segments
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var want, got []string
	p := s.Start()
	read := func() {
		recs, next, err := s.ReadBatch(p, 100, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			got = append(got, string(r.Data))
		}
		p = next
		s.Commit(p)
	}
	for i := range 1000 {
		appendData(t, s, payload(i))
		want = append(want, string(payload(i)))
		if i%7 == 6 {
			read()
		}
	}
	read()
	if !slices.Equal(got, want) {
		t.Fatalf("read %d records, want the %d appended in order", len(got), len(want))
	}
	if last := s.segs[len(s.segs)-1].n; last < 10 {
		t.Fatalf("only %d segments written: the test did not rotate", last)
	}
	if n := s.FileReads(); n != 0 {
		t.Fatalf("%d records read back from the file by a reader keeping up", n)
	}
	if n := tailLen(s); n != 0 {
		t.Fatalf("memory tail holds %d records after all were committed", n)
	}
}

func TestSpoolReadsTheFileBehindTheTail(t *testing.T) {
	s, err := Open(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetTailMax(8 << 10)
	var want []string
	for i := range 200 {
		appendData(t, s, payload(i))
		want = append(want, string(payload(i)))
	}
	inTail := tailLen(s)
	if inTail == 0 || inTail > 8<<10/200 {
		t.Fatalf("memory tail holds %d records of 200 B within 8 KiB", inTail)
	}
	got, _ := readAll(t, s, s.Start())
	if !slices.Equal(got, want) {
		t.Fatalf("read %d records, want the %d appended in order", len(got), len(want))
	}
	if n := s.FileReads(); n != uint64(200-inTail) {
		t.Fatalf("%d records read from the file, want %d (the rest from memory)", n, 200-inTail)
	}
}

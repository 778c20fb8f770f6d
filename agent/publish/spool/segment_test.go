package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestSpoolTornTailIsCut(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		appendData(t, s, fmt.Appendf(nil, "rec-%d", i))
	}
	s.Close()
	// A crash mid-write leaves half a record.
	f, _ := os.OpenFile(filepath.Join(dir, "0000000000000001.seg"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{0, 0, 0, 9, 1, 2})
	f.Close()
	s, err = Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendData(t, s, []byte("rec-3"))
	got, _ := readAll(t, s, s.Start())
	if fmt.Sprint(got) != "[rec-0 rec-1 rec-2 rec-3]" {
		t.Fatalf("got %v", got)
	}
}

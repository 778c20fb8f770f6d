package spool

import (
	"fmt"
	"strings"
	"testing"
)

// readAll reads every record from from on, in batches of a few, and returns
// their data.
func readAll(t *testing.T, s *Spool, from Pos) ([]string, Pos) {
	t.Helper()
	var out []string
	p := from
	for {
		recs, next, err := s.ReadBatch(p, 7, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return out, p
		}
		for _, r := range recs {
			if r.Subject != testSubj {
				t.Fatalf("record %q has subject %q", r.Data, r.Subject)
			}
			out = append(out, string(r.Data))
		}
		p = next
	}
}

const testSubj = "vigil.leeds.ag-1.events"

func appendData(t *testing.T, s *Spool, data []byte) {
	t.Helper()
	if err := s.Append(Record{Subject: testSubj, ID: "id-" + string(data[:min(len(data), 8)]), Data: data}, "", 0, nil); err != nil {
		t.Fatal(err)
	}
}

// openHundred opens a spool in dir and appends rec-000 to rec-099.
func openHundred(t *testing.T, dir string) *Spool {
	t.Helper()
	s, err := Open(dir, 1<<20)
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
	got, _ := readAll(t, s, s.Start())
	if len(got) != 100 || got[0] != "rec-000" || got[99] != "rec-099" {
		t.Fatalf("read %d records, first %q", len(got), got[0])
	}
	// Commit the first 40 and restart: reading resumes at the 41st.
	recs, p, _ := s.ReadBatch(s.Start(), 40, nil)
	if len(recs) != 40 || recs[39].Next != p {
		t.Fatalf("read %d records, last ending at %v, batch at %v", len(recs), recs[39].Next, p)
	}
	s.Commit(p)
	if d := s.Depth(); d != 60 {
		t.Fatalf("depth %d, want 60", d)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, _ = readAll(t, s, s.Start())
	if len(got) != 60 || got[0] != "rec-040" {
		t.Fatalf("after restart read %d records starting %q, want 60 from rec-040", len(got), got[0])
	}
	if d := s.Depth(); d != 60 {
		t.Fatalf("depth after restart %d, want 60", d)
	}
}

// tailLen is how many records the memory tail holds.
func tailLen(s *Spool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tail) - s.tailHead
}

func payload(i int) []byte { return fmt.Appendf(nil, "%05d-%s", i, strings.Repeat("x", 200)) }

package dnscache

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds DNS messages as they arrive from the network: Parse must
// not panic, and whatever it returns must be usable by the cache. Seeds are
// in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	// The recorded sample is committed: without it the fuzzer would lose
	// its one real seed without a word.
	msg, err := os.ReadFile(filepath.Join("testdata", "a_record.dns"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(msg)
	f.Add(cnameAnswer(f))
	c := New(Options{MaxEntries: 64})
	f.Fuzz(func(t *testing.T, msg []byte) {
		answers, err := Parse(msg)
		if err != nil && len(answers) > 0 {
			t.Fatalf("answers with an error: %+v, %v", answers, err)
		}
		for _, a := range answers {
			if !a.Addr.IsValid() || a.Name == "" {
				t.Fatalf("bad answer %+v", a)
			}
		}
		c.Add(answers)
		if c.Len() > 64 {
			t.Fatalf("cache holds %d, bound 64", c.Len())
		}
	})
}

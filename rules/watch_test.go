package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

const goodRule = `rule "dump" {
  severity = "high"
  when     = kind == "process.exec" && process.comm == "pg_dump"
}
`

func TestWatcherKeepsLastGoodSet(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.hcl")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(goodRule)
	var loaded []*Set
	var rejected []hcl.Diagnostics
	w := NewWatcher(dir, WatchOptions{
		NoSignal: true,
		OnLoad:   func(s *Set, _ hcl.Diagnostics) { loaded = append(loaded, s) },
		OnReject: func(d hcl.Diagnostics) { rejected = append(rejected, d) },
	})
	first, diags := w.Load()
	if first == nil || diags.HasErrors() {
		t.Fatalf("initial load: %v", diags)
	}
	if w.Check() {
		t.Fatal("Check reloaded unchanged files")
	}

	write(goodRule + "rule \"broken\" {\n  severity = \"high\"\n  when = kind == \"db.query\" && db.rowz > 1\n}\n")
	if w.Check() {
		t.Fatal("a broken change was accepted")
	}
	if len(rejected) != 1 || !rejected[0].HasErrors() {
		t.Fatalf("rejection not reported: %v", rejected)
	}
	if w.Current() != first {
		t.Fatal("the last good set was not kept")
	}
	if w.Check() {
		t.Fatal("the same broken files were tried twice")
	}

	write(goodRule + "rule \"fixed\" {\n  severity = \"high\"\n  when = kind == \"db.query\" && db.rows > 1\n}\n")
	if !w.Check() {
		t.Fatal("a fixed change was not accepted")
	}
	if len(loaded) != 1 || w.Current() != loaded[0] || len(loaded[0].Names()) != 2 {
		t.Fatalf("new set not current: %v", loaded)
	}
	if loaded[0].Hash() == first.Hash() {
		t.Fatal("hash did not change with the sources")
	}
	if !w.Reload() {
		t.Fatal("Reload of good files did not load")
	}
}

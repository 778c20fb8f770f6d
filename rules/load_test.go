package rules

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFilesSkipsHiddenAndOtherFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.hcl", "a.hcl", ".#a.hcl", "notes.txt", "a.hcl~"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(goodRule), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.hcl"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "a.hcl"), filepath.Join(dir, "b.hcl")}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("Files = %v, want %v", got, want)
	}
	if _, err := Files(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("no error for a missing directory")
	}
}

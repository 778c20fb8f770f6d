package rules

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
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

func TestLoadFilesReportsUnreadableFiles(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.hcl")
	set, diags := LoadFiles(missing)
	if set != nil || len(diags) != 1 || diags[0].Summary != "Cannot read rule file" {
		t.Fatalf("LoadFiles(missing) = %v, %v", set, diags)
	}
	checkSentence(t, diags[0])
	set, diags = LoadDir(filepath.Join(t.TempDir(), "none"))
	if set != nil || len(diags) != 1 || diags[0].Summary != "Cannot read rule directory" {
		t.Fatalf("LoadDir(missing) = %v, %v", set, diags)
	}
}

// TestLoadStopsOnSyntaxErrors checks that a file that does not parse stops
// the load before anything is compiled, so only its syntax is reported.
func TestLoadStopsOnSyntaxErrors(t *testing.T) {
	set, diags := Load(
		Source{Name: "a.hcl", Data: []byte("rule \"a\" {\n  severity = \"high\"\n  when = kind ==\n}\n")},
		Source{Name: "b.hcl", Data: []byte(whenRule("db.rowz > 1"))},
	)
	if set != nil || !diags.HasErrors() {
		t.Fatal("accepted")
	}
	for _, d := range diags {
		if d.Subject == nil || d.Subject.Filename != "a.hcl" {
			t.Errorf("reported beyond the syntax error: %s", FormatDiagnostic(d))
		}
	}
}

func TestLoadTakesEachFileOnce(t *testing.T) {
	src := Source{Name: "a.hcl", Data: []byte(goodRule)}
	set, diags := Load(src, src)
	if diags.HasErrors() || len(set.Names()) != 1 {
		t.Fatalf("a file given twice: %v, %v", set.Names(), diags)
	}
}

func TestLoadOfNothingWarns(t *testing.T) {
	set, diags := Load()
	if set == nil || len(set.Names()) != 0 || len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || diags[0].Summary != "No rule files" {
		t.Fatalf("Load() = %v, %v", set, diags)
	}
}

// TestSourceHash checks that the hash names the files' base names and
// contents, whatever their directory and order.
func TestSourceHash(t *testing.T) {
	a := parsedFile{name: "/etc/vigil/rules/a.hcl", data: []byte("x")}
	b := parsedFile{name: "/etc/vigil/rules/b.hcl", data: []byte("y")}
	h := sourceHash([]parsedFile{a, b})
	moved := []parsedFile{{name: "b.hcl", data: b.data}, {name: "/tmp/a.hcl", data: a.data}}
	if got := sourceHash(moved); got != h {
		t.Error("the hash depends on directories or order")
	}
	for _, other := range [][]parsedFile{
		{a, {name: b.name, data: []byte("z")}},
		{a, {name: "c.hcl", data: b.data}},
		{{name: "a.hcl", data: []byte("xy")}, {name: "b.hcl"}},
		{a},
	} {
		if sourceHash(other) == h {
			t.Errorf("files %v hash as the originals", other)
		}
	}
}

func TestFilesErrorSaysWhatFailed(t *testing.T) {
	_, err := Files(filepath.Join(t.TempDir(), "missing"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "listing rule files: ") {
		t.Fatalf("Files(missing) = %v", err)
	}
}

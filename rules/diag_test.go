package rules

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// rejectCase is a rule file that must be rejected with an error whose one
// line form (see FormatDiagnostic) starts with want.
type rejectCase struct {
	name string
	src  string
	want string // "t.hcl:LINE:COL: error: Summary; Detail..."
}

// checkRejects loads each case as the file t.hcl and checks that it is
// rejected with the error it names, placed at file:line:col, whose detail is
// a full sentence.
func checkRejects(t *testing.T, cases []rejectCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set, diags := Load(Source{Name: "t.hcl", Data: []byte(c.src)})
			if set != nil || !diags.HasErrors() {
				t.Fatalf("accepted:\n%s", c.src)
			}
			var got []string
			for _, d := range diags {
				line := FormatDiagnostic(d)
				got = append(got, line)
				if strings.HasPrefix(line, c.want) {
					checkSentence(t, d)
					return
				}
			}
			t.Fatalf("no diagnostic starts with\n  %s\ngot\n  %s", c.want, strings.Join(got, "\n  "))
		})
	}
}

// checkSentence fails unless d's detail is a whole sentence (or several).
func checkSentence(t *testing.T, d *hcl.Diagnostic) {
	t.Helper()
	det := d.Detail
	if det == "" || strings.TrimSpace(det) != det || !strings.ContainsAny(det[len(det)-1:], ".?") {
		t.Errorf("detail of %q is not a full sentence: %q", d.Summary, det)
	}
}

// loadOne loads src as the file t.hcl, failing on errors.
func loadOne(t *testing.T, src string) (*Set, hcl.Diagnostics) {
	t.Helper()
	set, diags := Load(Source{Name: "t.hcl", Data: []byte(src)})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	return set, diags
}

func TestFormatDiagnostic(t *testing.T) {
	rng := hcl.Range{Filename: "a.hcl", Start: hcl.Pos{Line: 3, Column: 7, Byte: 20}, End: hcl.Pos{Line: 3, Column: 9, Byte: 22}}
	for _, c := range []struct {
		d    *hcl.Diagnostic
		want string
	}{
		{errDiag(rng, "Unknown field", "There is no event field \"x\"."), `a.hcl:3:7: error: Unknown field; There is no event field "x".`},
		{&hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unused list", Subject: &rng}, "a.hcl:3:7: warning: Unused list"},
		{&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read rule directory", Detail: "No such directory."},
			"error: Cannot read rule directory; No such directory."},
	} {
		if got := FormatDiagnostic(c.d); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

func TestDiagnosticsJSON(t *testing.T) {
	_, diags := Load(Source{Name: "t.hcl", Data: []byte("list \"l\" {\n  items = [\"a\"]\n}\n")})
	got := DiagnosticsJSON(diags)
	want := DiagnosticJSON{Severity: "warning", Summary: "Unused list",
		Detail: `List "l" is not used by any rule, condition or exception.`,
		File:   "t.hcl", Line: 1, Column: 6, EndLine: 1, EndCol: 9}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if got := DiagnosticsJSON(nil); got == nil || len(got) != 0 {
		t.Errorf("no diagnostics: %#v, want an empty list", got)
	}
}

// TestWriteDiagnosticsReadsTheFile renders a diagnostic with the source line
// it points at, read from the file it names.
func TestWriteDiagnosticsReadsTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.hcl")
	src := "rule \"r\" {\n  severity = \"high\"\n  when     = kind == \"db.query\" && db.rowz > 1\n}\n"
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := LoadFiles(p)
	var b bytes.Buffer
	if err := WriteDiagnostics(&b, diags, 0, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Error: Unknown field", "on " + p + " line 3:",
		`   3:   when     = kind == "db.query" && db.rowz > 1`, `Did you mean "db.rows"?`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("rendered diagnostics lack %q:\n%s", want, b.String())
		}
	}
}

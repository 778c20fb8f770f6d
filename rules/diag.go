package rules

import (
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics renders diagnostics with source snippets, reading the
// files they name. width 0 means no wrapping.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, width uint, color bool) error {
	files := map[string]*hcl.File{}
	for _, d := range diags {
		for _, r := range []*hcl.Range{d.Subject, d.Context} {
			if r == nil || r.Filename == "" || files[r.Filename] != nil {
				continue
			}
			data, err := os.ReadFile(r.Filename)
			if err != nil {
				continue
			}
			files[r.Filename] = &hcl.File{Bytes: data}
		}
	}
	return hcl.NewDiagnosticTextWriter(w, files, width, color).WriteDiagnostics(diags)
}

// WriteDiagnosticsOf renders diagnostics with source snippets taken from
// srcs, for rules that are not files on this host (a form's text).
func WriteDiagnosticsOf(w io.Writer, diags hcl.Diagnostics, srcs []Source, width uint, color bool) error {
	files := map[string]*hcl.File{}
	for _, s := range srcs {
		files[s.Name] = &hcl.File{Bytes: s.Data}
	}
	return hcl.NewDiagnosticTextWriter(w, files, width, color).WriteDiagnostics(diags)
}

// DiagnosticJSON is the machine-readable form of one diagnostic.
type DiagnosticJSON struct {
	Severity string `json:"severity"` // error or warning
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	EndLine  int    `json:"end_line,omitempty"`
	EndCol   int    `json:"end_column,omitempty"`
}

// DiagnosticsJSON converts diagnostics for --json output.
func DiagnosticsJSON(diags hcl.Diagnostics) []DiagnosticJSON {
	out := make([]DiagnosticJSON, 0, len(diags))
	for _, d := range diags {
		j := DiagnosticJSON{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			j.Severity = "warning"
		}
		if s := d.Subject; s != nil {
			j.File, j.Line, j.Column, j.EndLine, j.EndCol = s.Filename, s.Start.Line, s.Start.Column, s.End.Line, s.End.Column
		}
		out = append(out, j)
	}
	return out
}

// FormatDiagnostic renders one diagnostic on one line:
// file:line:col: severity: summary; detail.
func FormatDiagnostic(d *hcl.Diagnostic) string {
	sev := "error"
	if d.Severity == hcl.DiagWarning {
		sev = "warning"
	}
	pos := ""
	if s := d.Subject; s != nil {
		pos = fmt.Sprintf("%s:%d:%d: ", s.Filename, s.Start.Line, s.Start.Column)
	}
	if d.Detail == "" {
		return fmt.Sprintf("%s%s: %s", pos, sev, d.Summary)
	}
	return fmt.Sprintf("%s%s: %s; %s", pos, sev, d.Summary, d.Detail)
}

func errDiag(rng hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()}
}

// ErrorCount is how many of diags are errors, not warnings.
func ErrorCount(diags hcl.Diagnostics) int {
	n := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	return n
}

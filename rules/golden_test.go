package rules

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestBrokenRuleFiles loads each file in testdata/broken, which must be
// rejected, and compares its diagnostics (file:line:col, summary, detail)
// with the .golden file beside it. Run with -update to rewrite them.
func TestBrokenRuleFiles(t *testing.T) {
	paths, err := filepath.Glob("testdata/broken/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 30 {
		t.Fatalf("only %d broken rule files", len(paths))
	}
	for _, p := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".hcl"), func(t *testing.T) {
			set, diags := LoadFiles(p)
			if set != nil || !diags.HasErrors() {
				t.Fatalf("%s was accepted", p)
			}
			var b strings.Builder
			for _, d := range diags {
				if d.Subject == nil || d.Subject.Filename != p || d.Subject.Start.Line < 1 {
					t.Errorf("diagnostic without a position in %s: %s", p, FormatDiagnostic(d))
				}
				b.WriteString(FormatDiagnostic(d) + "\n")
			}
			golden := strings.TrimSuffix(p, ".hcl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestBrokenRuleFiles -update)", err)
			}
			if got := b.String(); got != string(want) {
				t.Errorf("diagnostics for %s changed:\n--- want\n%s--- got\n%s", p, want, got)
			}
		})
	}
}

package ruleset

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/rules"
)

const rule = `rule "dump" {
  severity = "high"
  when     = kind == "process.exec" && process.comm == "pg_dump"
}
`

func TestSaveAndLoad(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Load(dir); !errors.Is(err, ErrNone) {
		t.Fatalf("Load of an empty state dir: %v, want ErrNone", err)
	}
	set, diags := rules.Load(rules.Source{Name: "/etc/vigil/rules/a.hcl", Data: []byte(rule)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if err := Save(dir, set); err != nil {
		t.Fatal(err)
	}
	got, saved, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash() != set.Hash() || saved.Hash != set.Hash() || strings.Join(got.Names(), ",") != "dump" {
		t.Fatalf("loaded set %s %v, saved %s", got.Hash(), got.Names(), set.Hash())
	}
	if saved.Files[0].Name != "/etc/vigil/rules/a.hcl" {
		t.Errorf("file name %q not kept", saved.Files[0].Name)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*tmp*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	st, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("saved file mode %v (%v), want 0600", st.Mode(), err)
	}
}

// A saved set edited in place (its hash no longer matches) or cut short is
// refused with a clear error, never loaded as if it were good.
func TestLoadRefusesAlteredOrTruncated(t *testing.T) {
	dir := t.TempDir()
	set, _ := rules.Load(rules.Source{Name: "a.hcl", Data: []byte(rule)})
	if err := Save(dir, set); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	b, _ := os.ReadFile(path)
	// "pg_dump" is inside the base64 of the file's data: change the hash instead.
	altered := strings.Replace(string(b), set.Hash(), strings.Repeat("0", len(set.Hash())), 1)
	if err := os.WriteFile(path, []byte(altered), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "hash to") {
		t.Fatalf("altered set: %v", err)
	}
	if err := os.WriteFile(path, b[:len(b)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("truncated set: %v", err)
	}
}

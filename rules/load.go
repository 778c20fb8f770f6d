package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Source is one rule file's name and content.
type Source struct {
	Name string
	Data []byte
}

// parsedFile is a rule file with its syntax tree.
type parsedFile struct {
	name string
	data []byte
	file *hcl.File
}

// LoadDir loads every *.hcl file in dir (see Files), in name order.
func LoadDir(dir string) (*Set, hcl.Diagnostics) {
	paths, err := Files(dir)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read rule directory", Detail: err.Error()}}
	}
	return LoadFiles(paths...)
}

// Files lists the rule files of dir: *.hcl, sorted, not in subdirectories,
// skipping hidden files (editor locks and backups such as .#rules.hcl).
func Files(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing rule files: %w", err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".hcl") {
			continue
		}
		out = append(out, filepath.Join(dir, name))
	}
	sort.Strings(out)
	return out, nil
}

// LoadFiles loads and compiles rule files. Any error diagnostic means a nil
// Set: a rule set is applied whole or not at all. Warnings come with a Set.
func LoadFiles(paths ...string) (*Set, hcl.Diagnostics) {
	var srcs []Source
	var diags hcl.Diagnostics
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read rule file",
				Detail: fmt.Sprintf("Reading %s: %s.", p, err)})
			continue
		}
		srcs = append(srcs, Source{Name: p, Data: data})
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return Load(srcs...)
}

// Load compiles rule files given as names and contents.
func Load(srcs ...Source) (*Set, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var files []parsedFile
	seen := map[string]bool{}
	for _, s := range srcs {
		if seen[s.Name] {
			continue
		}
		seen[s.Name] = true
		f, d := hclsyntax.ParseConfig(s.Data, s.Name, hcl.InitialPos)
		diags = append(diags, d...)
		files = append(files, parsedFile{name: s.Name, data: s.Data, file: f})
	}
	// Stop before evaluating anything when the syntax is broken.
	if diags.HasErrors() {
		return nil, diags
	}
	set, more := compile(files, nil)
	diags = append(diags, more...)
	if diags.HasErrors() {
		return nil, diags
	}
	if len(srcs) == 0 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "No rule files",
			Detail: "The rule set is empty."})
	}
	return set, diags
}

// sourceHash hashes file base names and contents, so the hash does not
// depend on where the files are or the order they were given in.
func sourceHash(files []parsedFile) string {
	type nf struct {
		name string
		data []byte
	}
	var l []nf
	for _, f := range files {
		l = append(l, nf{filepath.Base(f.name), f.data})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].name < l[j].name })
	h := sha256.New()
	for _, f := range l {
		fmt.Fprintf(h, "%s\x00%d\x00", f.name, len(f.data))
		h.Write(f.data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

package build

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/agent/caps"
	"github.com/vigilhq/vigil/agent/config"
	"github.com/vigilhq/vigil/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the packages built now")

const root = "../.."

// stubBin makes a bin/ with placeholder binaries, so the package layout is
// tested without building the programs.
func stubBin(t *testing.T) string {
	dir := t.TempDir()
	for _, b := range []string{"vigil-agent", "vigil-collector", "vigil"} {
		docs := filepath.Join(dir, "docs", b)
		for _, d := range []string{"man", "completions"} {
			if err := os.MkdirAll(filepath.Join(docs, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for path, text := range map[string]string{
			filepath.Join(dir, b):                         "#!/bin/sh\n",
			filepath.Join(docs, "man", b+".1"):            ".TH\n",
			filepath.Join(docs, "man", b+"-version.1"):    ".TH\n",
			filepath.Join(docs, "completions", b+".bash"): "# bash\n",
			filepath.Join(docs, "completions", "_"+b):     "#compdef\n",
			filepath.Join(docs, "completions", b+".fish"): "# fish\n",
		} {
			if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func TestGolden(t *testing.T) {
	opts := Options{Root: root, Bin: stubBin(t), Out: t.TempDir(), Version: "v1.2.3", Arch: "amd64"}
	results, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := Packages(root)
	if len(results) != len(names)*len(Formats) {
		t.Fatalf("built %d packages, want %d: %+v", len(results), len(names)*len(Formats), results)
	}
	for _, r := range results {
		t.Run(r.Package+"."+r.Format, func(t *testing.T) {
			if r.Skipped != "" {
				t.Fatal(r.Skipped)
			}
			var l Listing
			var err error
			switch r.Format {
			case "deb":
				l, err = ReadDeb(r.Path)
				if want := r.Package + "_1.2.3-1_amd64.deb"; filepath.Base(r.Path) != want {
					t.Errorf("file %s, want %s", filepath.Base(r.Path), want)
				}
			case "rpm":
				// The rpm is read back by rpm itself in test-install.sh
				// where rpm is installed; here: what nfpm puts in it.
				info, ierr := Info(opts, r.Package, "rpm")
				if ierr != nil {
					t.Fatal(ierr)
				}
				l, err = ListRPM(info)
			}
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", r.Package+"."+r.Format+".golden"), l.String())
		})
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./packaging/build -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs; if the change is intended, rerun with -update and review the diff.\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestSkipsMissingBinary(t *testing.T) {
	opts := Options{Root: root, Bin: t.TempDir(), Out: t.TempDir(), Version: "dev", Arch: "amd64", Packages: []string{"vigil-collector"}}
	results, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Path != "" || !strings.Contains(r.Skipped, "vigil-collector") || !strings.Contains(r.Skipped, "make build") {
			t.Errorf("%+v: want skipped, naming the binary", r)
		}
	}
	if _, err := Info(opts, "vigil-collector", "deb"); !errors.Is(err, ErrNoBinary) {
		t.Errorf("Info = %v, want ErrNoBinary", err)
	}
}

func TestVersion(t *testing.T) {
	for in, want := range map[string]string{
		"v1.2.3":                 "1.2.3",
		"1.2.3":                  "1.2.3",
		"v1.2.3-4-gabcdef":       "1.2.3+git.4.gabcdef",
		"v1.2.3-4-gabcdef-dirty": "1.2.3+git.4.gabcdef.dirty",
		"v1.2.3-dirty":           "1.2.3-dirty",
		"v1.2.3-rc.1":            "1.2.3-rc.1",
		"48e6267":                "0.0.0-git.48e6267",
		"48e6267-dirty":          "0.0.0-git.48e6267.dirty",
		"":                       "0.0.0-git.dev",
		"dev":                    "0.0.0-git.dev",
	} {
		if got := Version(in); got != want {
			t.Errorf("Version(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultAgentConfigParses(t *testing.T) {
	path := filepath.Join(root, "packaging", "etc", "agent.hcl")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Parse(path, src)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if cfg.StateDir != "/var/lib/vigil" || cfg.RulesDir != "/etc/vigil/rules" {
		t.Errorf("state_dir %q, rules_dir %q: the unit and package use /var/lib/vigil and /etc/vigil/rules", cfg.StateDir, cfg.RulesDir)
	}
}

// The unit's bounding set is exactly what agent/caps documents.
func TestUnitCapabilitiesMatchCaps(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join(root, "packaging", "systemd", "vigil-agent.service"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(line, "CapabilityBoundingSet="); ok {
			got = append(got, strings.Fields(v)...)
		}
	}
	var want []string
	for _, n := range append(append([]caps.Need{}, caps.Attach...), caps.Run...) {
		want = append(want, n.Name())
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("unit CapabilityBoundingSet %v, agent/caps documents %v", got, want)
	}
}

func TestScriptsParse(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil || runtime.GOOS != "linux" {
		testenv.Skip(t, "needs sh on Linux to check the maintainer scripts")
	}
	scripts, _ := filepath.Glob(filepath.Join(root, "packaging", "scripts", "*.sh"))
	if len(scripts) == 0 {
		t.Fatal("no scripts")
	}
	for _, s := range scripts {
		if out, err := exec.Command(sh, "-n", s).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", s, err, out)
		}
	}
}

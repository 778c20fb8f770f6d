package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func tree() *cobra.Command {
	root := &cobra.Command{Use: "tool", Short: "A tool"}
	group := &cobra.Command{Use: "things", Short: "Things"}
	list := &cobra.Command{Use: "list", Short: "List things", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { return nil }}
	list.Flags().Bool("json", false, "print JSON")
	group.AddCommand(list)
	root.AddCommand(group)
	Setup(root)
	return root
}

// gendocs writes a man page per command and the three completions; the
// bash one parses.
func TestWriteDocs(t *testing.T) {
	dir := t.TempDir()
	var out, errOut strings.Builder
	if code := Execute(tree(), []string{"gendocs", dir}, &out, &errOut); code != ExitOK {
		t.Fatalf("gendocs: exit %d: %s", code, errOut.String())
	}
	for _, f := range []string{"man/tool.1", "man/tool-things.1", "man/tool-things-list.1",
		"completions/tool.bash", "completions/_tool", "completions/tool.fish"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v, %d bytes", f, err, len(b))
		}
	}
	page, _ := os.ReadFile(filepath.Join(dir, "man/tool-things-list.1"))
	if !strings.HasPrefix(string(page), ".nh\n.TH \"TOOL-THINGS-LIST\" \"1\"") || !strings.Contains(string(page), "json") {
		t.Errorf("man page:\n%s", page)
	}
	if bash, err := exec.LookPath("bash"); err == nil {
		if out, err := exec.Command(bash, "-n", filepath.Join(dir, "completions/tool.bash")).CombinedOutput(); err != nil {
			t.Errorf("bash -n: %v\n%s", err, out)
		}
	}
}

// An unknown subcommand exits 2 with the nearest one, or the list.
func TestUnknownCommand(t *testing.T) {
	for args, want := range map[string]string{
		"thing":        `unknown command "thing" for "tool"; did you mean things?`,
		"things lsit":  `unknown command "lsit" for "tool things"; did you mean list?`,
		"things xyzzy": `unknown command "xyzzy" for "tool things" (want list)`,
	} {
		var out, errOut strings.Builder
		if code := Execute(tree(), strings.Fields(args), &out, &errOut); code != ExitUsage || !strings.Contains(errOut.String(), want) {
			t.Errorf("tool %s: exit %d, stderr %q, want 2 and %q", args, code, errOut.String(), want)
		}
	}
}

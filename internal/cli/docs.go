package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// docsCommand writes the binary's man pages and shell completions, for
// packaging; hidden because users get them installed.
func docsCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "gendocs DIR",
		Short:  "Write man pages (DIR/man) and bash, zsh and fish completions (DIR/completions)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return WriteDocs(c.Root(), args[0])
		},
	}
}

// WriteDocs writes root's man pages into dir/man (one per command, section
// 1) and its completions into dir/completions as NAME.bash, _NAME (zsh)
// and NAME.fish.
func WriteDocs(root *cobra.Command, dir string) error {
	man := filepath.Join(dir, "man")
	comp := filepath.Join(dir, "completions")
	for _, d := range []string{man, comp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("making the docs directory: %w", err)
		}
	}
	root.DisableAutoGenTag = true
	header := &doc.GenManHeader{Section: "1", Source: "vigil", Manual: "vigil manual"}
	if err := doc.GenManTree(root, header, man); err != nil {
		return fmt.Errorf("writing man pages to %s: %w", man, err)
	}
	name := root.Name()
	for file, gen := range map[string]func(string) error{
		name + ".bash": func(p string) error { return root.GenBashCompletionFileV2(p, true) },
		"_" + name:     root.GenZshCompletionFile,
		name + ".fish": func(p string) error { return root.GenFishCompletionFile(p, true) },
	} {
		if err := gen(filepath.Join(comp, file)); err != nil {
			return fmt.Errorf("writing the completion %s: %w", file, err)
		}
	}
	return nil
}

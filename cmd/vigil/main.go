package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/internal/cli"
)

// Exit codes shared by every command.
const (
	exitOK    = cli.ExitOK
	exitFail  = cli.ExitFail  // the command ran and found problems (or failed)
	exitUsage = cli.ExitUsage // the command line was wrong
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version or VCS revision is used.
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	return cli.Execute(rootCommand(), args, stdout, stderr)
}

// rootCommand is the whole command tree of vigil.
func rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "vigil",
		Short: "vigil's operator CLI: rules, alerts, the fleet, loss, store verification and enrolment",
		Long: `vigil is the operator CLI of vigil, an insider-threat monitor: rule writers
check, test and format rules; the SOC lists, follows and triages alerts and
watches the fleet and what was lost, and verifies the collector's store;
IT enrols agents.

Exit status: 0 done, 1 the command failed or found problems, 2 the command
line was wrong.`,
		Version: versionString(),
	}
	root.SetVersionTemplate("vigil {{.Version}}\n")
	root.AddCommand(alertsCommand(), agentsCommand(), lossCommand(), rulesCommand(), enrolCommand(), verifyCommand(),
		&cobra.Command{Use: "version", Short: "Print the version", Args: cobra.NoArgs,
			Run: func(c *cobra.Command, _ []string) { fmt.Fprintln(c.OutOrStdout(), "vigil", versionString()) }})
	cli.Setup(root)
	return root
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return "dev"
}

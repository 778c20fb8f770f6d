package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
)

// Exit codes shared by every command.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and found problems (or failed)
	exitUsage = 2 // the command line was wrong
)

// command is one top-level subcommand.
type command struct {
	name    string
	usage   string // e.g. "rules check|test|fmt [flags] PATH"
	summary string
	// run gets the arguments after the command name and returns the exit code.
	run func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{}

// register adds a command; it is called from init functions.
func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("vigil: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version or VCS revision is used.
var version = ""

func init() {
	register(command{name: "version", usage: "version", summary: "print the version", run: runVersion})
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "vigil: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: vigil COMMAND [flags] [args]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := commands[n]
		fmt.Fprintf(w, "  %-36s %s\n", c.usage, c.summary)
	}
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

func runVersion(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stdout, "vigil", versionString())
	return exitOK
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (vigil rules check DIR --json), returning the
// positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: vigil %s\n", usage)
		if strings.Contains(usage, "[flags]") {
			fs.PrintDefaults()
		}
	}
	return fs
}

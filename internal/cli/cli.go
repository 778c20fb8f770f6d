package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes shared by every command of every binary.
const (
	ExitOK    = 0
	ExitFail  = 1 // the command ran and found problems (or failed)
	ExitUsage = 2 // the command line was wrong
)

// exitError ends a command with code; a nil err means the command has
// already said what went wrong.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Code ends a command with an exit code it has already explained (nil for
// ExitOK), for commands whose result is their output.
func Code(code int) error {
	if code == ExitOK {
		return nil
	}
	return &exitError{code: code}
}

// Usagef reports a wrong command line: printed with a pointer to --help,
// exit status 2.
func Usagef(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// Setup makes root and its subcommands behave as the binaries' command
// lines do: errors printed once by Execute, flag and argument errors exit
// 2, a command group without a subcommand prints its help and exits 2, and
// help TOPIC fails on a topic that does not exist.
func Setup(root *cobra.Command) {
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.CompletionOptions.HiddenDefaultCmd = false
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: ExitUsage, err: err}
	})
	root.SetHelpCommand(helpCommand())
	root.AddCommand(docsCommand())
	walk(root, func(c *cobra.Command) {
		c.SuggestionsMinimumDistance = 2
		if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
			c.Args = groupArgs
			c.RunE = func(c *cobra.Command, args []string) error {
				c.SetOut(c.ErrOrStderr())
				_ = c.Help()
				return Code(ExitUsage)
			}
			return
		}
		if c.Args != nil {
			check := c.Args
			c.Args = func(c *cobra.Command, args []string) error {
				if err := check(c, args); err != nil {
					var e *exitError
					if errors.As(err, &e) {
						return err
					}
					return &exitError{code: ExitUsage, err: err}
				}
				return nil
			}
		}
	})
}

func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, s := range c.Commands() {
		walk(s, f)
	}
}

// groupArgs refuses a subcommand the group does not have, which cobra
// would otherwise take for an argument.
func groupArgs(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	var names []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		return Usagef("unknown command %q for %q; did you mean %s?", args[0], c.CommandPath(), strings.Join(s, " or "))
	}
	return Usagef("unknown command %q for %q (want %s)", args[0], c.CommandPath(), strings.Join(names, ", "))
}

func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND...]",
		Short: "Show help for any command",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, s := range cmd.Commands() {
				if s.IsAvailableCommand() && strings.HasPrefix(s.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(s.Name(), s.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return Usagef("no help topic %q: %s help lists the commands", strings.Join(args, " "), c.Root().Name())
			}
			cmd.InitDefaultHelpFlag()
			cmd.SetOut(c.OutOrStdout())
			return cmd.Help()
		},
	}
}

// Execute runs root with args and returns the exit status, printing the
// error (if any) on stderr as "NAME: error".
func Execute(root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	root.SetArgs(longFlags(root, args))
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	if err == nil {
		return ExitOK
	}
	code := ExitFail
	var e *exitError
	switch {
	case errors.As(err, &e):
		code = e.code
		if e.err == nil {
			return code
		}
	case strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") ||
		strings.HasPrefix(err.Error(), "unknown shorthand flag"):
		code = ExitUsage
	}
	if cmd == nil {
		cmd = root
	}
	fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), err)
	if code == ExitUsage {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// longFlags rewrites -name and -name=value, which the flag package took
// for --name, into the double-dash form pflag needs, for the long flags
// of the command args run; a value that follows a flag is left alone.
func longFlags(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		cmd = root
	}
	lookup := func(name string) *pflag.Flag {
		if f := cmd.Flags().Lookup(name); f != nil {
			return f
		}
		return cmd.InheritedFlags().Lookup(name)
	}
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		out = append(out, a)
		if a == "--" {
			return append(out, args[i+1:]...)
		}
		if len(a) < 3 || a[0] != '-' {
			continue
		}
		long := a[1] == '-'
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := lookup(name)
		if f == nil {
			continue
		}
		if !long {
			out[len(out)-1] = "-" + a
		}
		if !hasValue && f.NoOptDefVal == "" && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/collector/auth"
)

// tokenCommand is vigil-collector token add|list|revoke.
func tokenCommand() *cobra.Command {
	return credentialCommand("token", "Make, list or revoke API tokens (for the CLI, scripts and /metrics)",
		"what the token may do: analyst (read and triage alerts, /metrics), metrics or admin",
		[]string{auth.RoleAnalyst, auth.RoleMetrics, auth.RoleAdmin},
		map[string]string{"add": "Make an API token and print it (shown once)", "list": "List the tokens", "revoke": "Revoke a token"},
		token)
}

// token manages the API's tokens in the data directory; the collector
// picks up a change at the next request.
func token(verb, name, data, role string, out io.Writer) error {
	st, err := auth.Open(data)
	if err != nil {
		return err
	}
	switch verb {
	case "add":
		if name == "" {
			return errors.New("token add: name the token, e.g. token add grafana --role metrics")
		}
		text, err := st.Add(name, role)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, text)
	case "revoke":
		if name == "" {
			return errors.New("token revoke: name the token")
		}
		return st.Revoke(name)
	case "list":
		ts, err := st.List()
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tROLE\tCREATED")
		for _, t := range ts {
			fmt.Fprintf(w, "%s\t%s\t%s\n", t.Name, t.Role, t.Created.Format("2006-01-02 15:04"))
		}
		return w.Flush()
	default:
		return fmt.Errorf("token: unknown command %q: add, list or revoke", verb)
	}
	return nil
}

// credentialCommand makes the command group KIND VERB [NAME] [--data
// DIR] [--role ROLE] that token and user share.
func credentialCommand(kind, short, roleHelp string, roles []string, verbs map[string]string,
	do func(verb, name, data, role string, out io.Writer) error) *cobra.Command {
	group := &cobra.Command{Use: kind, Short: short, Long: short + ".\n\nWhoever may read the data directory may make credentials; the collector\npicks up a change at the next request."}
	for _, verb := range []string{"add", "list", "revoke", "remove"} {
		help, ok := verbs[verb]
		if !ok {
			continue
		}
		var data, role string
		sub := &cobra.Command{Use: verb + " NAME", Short: help, Args: cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				name := ""
				if len(args) == 1 {
					name = args[0]
				}
				return do(verb, name, data, role, c.OutOrStdout())
			}}
		if verb == "list" {
			sub.Use, sub.Args = verb, cobra.NoArgs
		}
		sub.Flags().StringVar(&data, "data", "/var/lib/vigil-collector", "the collector's data `directory`")
		_ = sub.MarkFlagDirname("data")
		if verb == "add" {
			sub.Flags().StringVar(&role, "role", auth.RoleAnalyst, roleHelp)
			_ = sub.RegisterFlagCompletionFunc("role", cobra.FixedCompletions(roles, cobra.ShellCompDirectiveNoFileComp))
		}
		group.AddCommand(sub)
	}
	return group
}

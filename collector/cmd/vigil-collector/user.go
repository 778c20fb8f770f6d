package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/vigilhq/vigil/collector/auth"
)

// userCommand is vigil-collector user add|list|remove.
func userCommand() *cobra.Command {
	return credentialCommand("user", "Make, list or remove the web console's users",
		"analyst (read and triage alerts) or admin (also the audit log)",
		[]string{auth.RoleAnalyst, auth.RoleAdmin},
		map[string]string{"add": "Make a console user and print a random password (shown once)", "list": "List the users",
			"remove": "Remove a user; their session stops at the next request"},
		user)
}

// user manages the console's users in the data directory, as token does
// tokens: whoever may read the data directory may make credentials, and
// no one else; the collector sees a change at the next request.
func user(verb, name, data, role string, out io.Writer) error {
	users, err := auth.OpenUsers(data)
	if err != nil {
		return err
	}
	switch verb {
	case "add":
		if name == "" {
			return errors.New("user add: name the user, e.g. user add ana --role analyst")
		}
		pw, err := users.Add(name, role, "")
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "user: %s\npassword: %s\n", name, pw)
	case "remove":
		if name == "" {
			return errors.New("user remove: name the user")
		}
		return users.Remove(name)
	case "list":
		list, err := users.List()
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tROLE\tCREATED")
		for _, u := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\n", u.Name, u.Role, u.Created.Format("2006-01-02 15:04"))
		}
		return w.Flush()
	default:
		return fmt.Errorf("user: unknown command %q: add, list or remove", verb)
	}
	return nil
}

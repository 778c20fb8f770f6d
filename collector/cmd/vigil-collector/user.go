package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/vigilhq/vigil/collector/auth"
)

// user manages the console's users in the data directory, as token does
// tokens: whoever may read the data directory may make credentials, and
// no one else; the collector sees a change at the next request.
func user(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("user: add NAME, list or remove NAME")
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	data := fs.String("data", "/var/lib/vigil-collector", "the collector's data `directory`")
	role := fs.String("role", auth.RoleAnalyst, "analyst (read and triage alerts) or admin (also the audit log)")
	verb, rest := args[0], args[1:]
	var name string
	if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		name, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	users, err := auth.OpenUsers(*data)
	if err != nil {
		return err
	}
	switch verb {
	case "add":
		if name == "" {
			return errors.New("user add: name the user, e.g. user add ana --role analyst")
		}
		pw, err := users.Add(name, *role, "")
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

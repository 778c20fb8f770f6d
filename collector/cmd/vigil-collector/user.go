package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/vigilhq/vigil/collector/auth"
)

// user manages the console's users in the data directory, as token does
// tokens: whoever may read the data directory may make credentials, and
// no one else; the collector sees a change at the next request.
func user(args []string, out io.Writer) error {
	verb, name, data, role, err := credentialArgs("user", "add NAME, list or remove NAME", "analyst (read and triage alerts) or admin (also the audit log)", args)
	if err != nil {
		return err
	}
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

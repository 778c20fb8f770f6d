package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/vigilhq/vigil/collector/auth"
)

// token manages the API's tokens in the data directory; the collector
// picks up a change at the next request.
func token(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("token: add NAME, list or revoke NAME")
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	data := fs.String("data", "/var/lib/vigil-collector", "the collector's data `directory`")
	role := fs.String("role", auth.RoleAnalyst, "what the token may do: analyst (read and triage alerts, /metrics), metrics or admin")
	verb, rest := args[0], args[1:]
	var name string
	if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		name, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	st, err := auth.Open(*data)
	if err != nil {
		return err
	}
	switch verb {
	case "add":
		if name == "" {
			return errors.New("token add: name the token, e.g. token add grafana --role metrics")
		}
		text, err := st.Add(name, *role)
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

package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/collector/enrol"
	"github.com/vigilhq/vigil/internal/cli"
)

// enrolCommand is vigil enrol.
func enrolCommand() *cobra.Command {
	var o enrolOptions
	c := &cobra.Command{
		Use:   "enrol --site S --host H [flags]",
		Short: "Give an agent its own NKey (run on the collector); prints the agent.hcl lines that bind it",
		Long: `Give an agent its own NKey, recorded in the collector's data directory, and
write its credentials file (with the deployment key that keys identifier
hashes). Run it on the collector; it prints the agent.hcl lines that bind the
agent to its site and host. --revoke AGENT_ID cuts an agent off instead.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return cli.Code(runEnrol(o, c.OutOrStdout(), c.ErrOrStderr()))
		},
	}
	fs := c.Flags()
	fs.StringVar(&o.site, "site", "", "the agent's `site`")
	fs.StringVar(&o.host, "host", "", "the agent's `host` name")
	fs.StringVar(&o.id, "agent-id", "", "agent `id` (default: a new one)")
	fs.StringVar(&o.data, "data", "/var/lib/vigil-collector", "the collector's data `directory` (agents are recorded in its agents/)")
	fs.StringVar(&o.out, "out", "", "NKey seed `file` to write (default HOST.nk; - for standard output)")
	fs.StringVar(&o.revoke, "revoke", "", "revoke the agent with this `id` instead")
	_ = c.MarkFlagDirname("data")
	return c
}

type enrolOptions struct {
	site, host, id, data, out, revoke string
}

func runEnrol(o enrolOptions, stdout, stderr io.Writer) int {
	site, host, id, data, out, revoke := &o.site, &o.host, &o.id, &o.data, &o.out, &o.revoke
	dir := *data + "/agents"
	if *revoke != "" {
		if err := enrol.Revoke(dir, *revoke); err != nil {
			fmt.Fprintln(stderr, "vigil enrol:", err)
			return exitFail
		}
		fmt.Fprintf(stdout, "revoked %s; the collector refuses its key within a few seconds\n", *revoke)
		return exitOK
	}
	if *site == "" || *host == "" {
		fmt.Fprintln(stderr, "vigil enrol: --site and --host are required (vigil enrol --help)")
		return exitUsage
	}
	path := *out
	if path == "" {
		path = *host + ".nk"
	}
	// A regular file is never overwritten (it may hold another agent's
	// seed); a pipe, a terminal or /dev/stdout is written to.
	if path != "-" {
		st, err := os.Stat(path)
		switch {
		case err == nil && st.Mode().IsRegular():
			fmt.Fprintf(stderr, "vigil enrol: %s exists; remove it or pick another --out\n", path)
			return exitFail
		case err != nil && !errors.Is(err, os.ErrNotExist):
			fmt.Fprintln(stderr, "vigil enrol:", err)
			return exitFail
		}
	}
	a, creds, err := enrol.Enrol(dir, *site, *host, *id)
	if err != nil {
		fmt.Fprintln(stderr, "vigil enrol:", err)
		return exitFail
	}
	if path == "-" {
		// The credentials are the output; what was done goes to stderr.
		stdout.Write(creds)
		fmt.Fprintf(stderr, "enrolled agent %s (site %s, host %s, key %s); copy the key to the host as /etc/vigil/agent.nk (mode 0600) and set in agent.hcl:\n%s",
			a.AgentID, a.Site, a.Host, a.PublicKey, a.Settings("/etc/vigil/agent.nk"))
		return exitOK
	}
	if err := os.WriteFile(path, creds, 0o600); err != nil {
		fmt.Fprintln(stderr, "vigil enrol: writing credentials:", err)
		if err := enrol.Revoke(dir, a.AgentID); err != nil {
			fmt.Fprintf(stderr, "vigil enrol: agent %s stays enrolled without credentials; revoking it: %v\n", a.AgentID, err)
		}
		return exitFail
	}
	fmt.Fprintf(stdout, "enrolled agent %s (site %s, host %s, key %s)\nkey, with the deployment key that keys identifier hashes, written to %s: copy it to the host as /etc/vigil/agent.nk (mode 0600) and set in /etc/vigil/agent.hcl:\n\n%s",
		a.AgentID, a.Site, a.Host, a.PublicKey, path, a.Settings("/etc/vigil/agent.nk"))
	return exitOK
}

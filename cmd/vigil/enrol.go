package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/vigilhq/vigil/collector/enrol"
)

func init() {
	register(command{
		name:    "enrol",
		usage:   "enrol --site S --host H [flags]",
		summary: "give an agent its own NKey (run on the collector); prints the agent.hcl lines that bind it",
		run:     runEnrol,
	})
}

func runEnrol(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("enrol", flag.ContinueOnError)
	fs.SetOutput(stderr)
	site := fs.String("site", "", "the agent's `site`")
	host := fs.String("host", "", "the agent's `host` name")
	id := fs.String("agent-id", "", "agent `id` (default: a new one)")
	data := fs.String("data", "/var/lib/vigil-collector", "the collector's data `directory` (agents are recorded in its agents/)")
	out := fs.String("out", "", "NKey seed `file` to write (default HOST.nk; - for standard output)")
	revoke := fs.String("revoke", "", "revoke the agent with this `id` instead")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
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
		fmt.Fprintln(stderr, "vigil enrol: --site and --host are required")
		fs.Usage()
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

package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/enrol"
)

// natsConfigCommand is vigil-collector nats-config.
func natsConfigCommand() *cobra.Command {
	var data string
	var sites []string
	c := &cobra.Command{
		Use:   "nats-config [--data DIR] [--site SITE]...",
		Short: "Print the authorization an external NATS cluster or leaf node needs for the enrolled agents",
		Long: `Print a nats-server configuration block (authorization { users = [...] }) that
gives each enrolled agent's key the permissions the embedded server gives it
(publish only vigil.<site>.<agent_id>.>, subscribe only its own inbox) and the
collector's own key (DATA/collector.nk, made on first use: pass it to run as
--nats-creds) every permission. Include it in each cluster node's
configuration, and in each site's leaf node with --site for that site's
agents only. Print it again after each vigil enrol or --revoke and reload the
servers (nats-server --signal reload).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return natsConfig(data, sites, c.OutOrStdout()) },
	}
	c.Flags().StringVar(&data, "data", "/var/lib/vigil-collector", "data `directory`")
	c.Flags().StringArrayVar(&sites, "site", nil, "only this `site`'s agents (repeat for more)")
	_ = c.MarkFlagDirname("data")
	return c
}

// natsConfig prints the authorization block for the agents enrolled in
// data; an enrolment record it cannot use stops it, since that agent would
// be shut out without a word.
func natsConfig(data string, sites []string, out io.Writer) error {
	pub, err := bus.CollectorKey(data)
	if err != nil {
		return err
	}
	agents, errs := enrol.Load(filepath.Join(data, "agents"))
	if len(errs) > 0 {
		return fmt.Errorf("enrolment records: %w", errs[0])
	}
	conf, err := bus.AuthorizationConfig(pub, agents, sites)
	if err != nil {
		return err
	}
	_, err = out.Write(conf)
	return err
}

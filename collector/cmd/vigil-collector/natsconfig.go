package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/enrol"
)

// natsConfigCommand is vigil-collector nats-config.
func natsConfigCommand() *cobra.Command {
	var data, leafSite, out string
	c := &cobra.Command{
		Use:   "nats-config [--data DIR] [--leaf-site SITE] [--out FILE]",
		Short: "Write the authorization an external NATS cluster or a site's leaf node needs for the enrolled agents",
		Long: `Write a nats-server configuration block for an external cluster.

Without --leaf-site it is the core nodes' block (authorization { users = [...] }):
each enrolled agent's key gets the permissions the embedded server gives it
(publish only vigil.<site>.<agent_id>.>, subscribe only its own inbox), the
collector's own key (DATA/collector.nk, made on first use: pass it to run as
--nats-creds) every permission, and each site's leaf node its own key
(DATA/leaf-<site>.nk, made on first use) with no more than that site's agents
together. Include it in each core node's configuration.

With --leaf-site SITE it is that site's leaf node's file: the site's agents'
keys only, and the leaf's seed as the variable $VIGIL_LEAF_NKEY for its remote
(leafnodes { remotes = [ { urls: [...], nkey: $VIGIL_LEAF_NKEY } ] }).

Write it again after each vigil enrol or --revoke (--out replaces the file at
once, mode 0600) and reload the servers (nats-server --signal reload); after an
enrolment at a site with a leaf node, restart that leaf node too, since its
link to the core keeps the permissions it connected with.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			var b bytes.Buffer
			if err := natsConfig(data, leafSite, &b); err != nil {
				return err
			}
			if out == "" {
				_, err := c.OutOrStdout().Write(b.Bytes())
				return err
			}
			return writeFileAtomic(out, b.Bytes())
		},
	}
	c.Flags().StringVar(&data, "data", "/var/lib/vigil-collector", "data `directory`")
	c.Flags().StringVar(&leafSite, "leaf-site", "", "write the leaf node's file of this `site` instead of the core nodes' block")
	c.Flags().StringVar(&out, "out", "", "write to this `file` (replaced at once, mode 0600) instead of standard output")
	_ = c.MarkFlagDirname("data")
	return c
}

// natsConfig writes the core nodes' block, or with leafSite that site's
// leaf node's file, for the agents enrolled in data; an enrolment record it
// cannot use stops it, since that agent would be shut out without a word.
func natsConfig(data, leafSite string, out io.Writer) error {
	agents, errs := enrol.Load(filepath.Join(data, "agents"))
	if len(errs) > 0 {
		return fmt.Errorf("enrolment records: %w", errs[0])
	}
	var conf []byte
	if leafSite != "" {
		kp, err := bus.LeafKey(data, leafSite)
		if err != nil {
			return err
		}
		if conf, err = bus.LeafConfig(leafSite, kp, agents); err != nil {
			return err
		}
	} else {
		pub, err := bus.CollectorKey(data)
		if err != nil {
			return err
		}
		leaves := map[string]string{}
		for _, a := range agents {
			if _, ok := leaves[a.Site]; ok {
				continue
			}
			kp, err := bus.LeafKey(data, a.Site)
			if err != nil {
				return err
			}
			if leaves[a.Site], err = kp.PublicKey(); err != nil {
				return fmt.Errorf("the key of site %s's leaf node: %w", a.Site, err)
			}
		}
		if conf, err = bus.CoreConfig(pub, leaves, agents); err != nil {
			return err
		}
	}
	_, err := out.Write(conf)
	return err
}

// writeFileAtomic replaces path with data (mode 0600, as it may hold a
// seed), so a server reloading meanwhile reads the old file or the new one,
// never half of one.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

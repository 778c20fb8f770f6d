package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/collector/bundles"
	"github.com/vigilhq/vigil/internal/cli"
	"github.com/vigilhq/vigil/rules/bundle"
)

// errRejected says the rules were refused and why has been written out.
var errRejected = bundles.ErrRejected

// publishRules loads the host rules of paths and publishes them as the
// signed bundle of site (bundle.AllSites: every site) from the collector's
// data directory after the checks of vigil rules check and test, against
// the identifiers agentConfig's agents hash; diagnostics and failures go
// to out.
func publishRules(dataDir, site, agentConfig string, paths []string, out io.Writer) (*bundle.Bundle, error) {
	set, diags, _ := loadForCLI(paths, out)
	var hashed []string
	if set != nil {
		var err error
		if hashed, err = agentIdentifiers(agentConfig); err != nil {
			return nil, err
		}
	}
	return bundles.CheckAndPublish(dataDir, site, set, diags, nil, hashed, time.Now(), out)
}

// rulesPublishCommand is vigil rules publish.
func rulesPublishCommand() *cobra.Command {
	var site, data, agentCfg string
	c := &cobra.Command{
		Use:   "publish --site SITE|'*' [flags] PATH...",
		Short: "Check, test and sign host rules into a bundle the collector serves to a site's agents",
		Long: `Check and test the rule files as check and test do; only when both pass, sign them with
the collector's rules key (made in the data directory on first use) into a bundle whose
version is above every earlier one, for the agents of SITE ('*': every site). Run it on
the collector host; the collector serves the bundle within a second. docs/deploy.md,
"Signed rule bundles", says what agents accept and refuse.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if site == "" {
				return cli.Usagef("--site is required (a site, or '*' for every site)")
			}
			return cli.Code(rulesPublish(data, site, agentCfg, args, c.OutOrStdout(), c.ErrOrStderr()))
		},
	}
	c.Flags().StringVar(&site, "site", "", "the `site` whose agents run the bundle, or '*' for every site")
	c.Flags().StringVar(&data, "data", "/var/lib/vigil-collector", "the collector's data `directory` (its rules signing key, and bundles/ it serves)")
	c.Flags().StringVar(&agentCfg, "agent-config", "", "the agents' agent.hcl `file`, whose db.identifiers rules may count (default "+defaultAgentConfig+" when present)")
	return c
}

func rulesPublish(data, site, agentCfg string, paths []string, stdout, stderr io.Writer) int {
	b, err := publishRules(data, site, agentCfg, paths, stdout)
	if err != nil {
		if !errors.Is(err, errRejected) {
			fmt.Fprintln(stderr, "vigil rules publish:", err)
		}
		return exitFail
	}
	who := "site " + b.Site
	if b.Site == bundle.AllSites {
		who = "every site"
	}
	fmt.Fprintf(stdout, "published bundle %d for %s: %d files, hash %.12s; the collector serves it within a few seconds\n",
		b.Version, who, len(b.Files), b.Hash)
	return exitOK
}

package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/collector/bundles"
	"github.com/vigilhq/vigil/internal/cli"
	"github.com/vigilhq/vigil/rules"
	"github.com/vigilhq/vigil/rules/bundle"
)

// errRejected says the rules were refused and why has been written out.
var errRejected = errors.New("rules rejected; nothing published")

// publishRules checks and tests the host rules of paths as vigil rules
// check and test do, and publishes them as the signed bundle of site
// (bundle.AllSites: every site) from the collector's data directory. Only
// rules that compile, read identifiers the agents hash and pass their
// tests are published; diagnostics and failures go to out.
func publishRules(dataDir, site, agentConfig string, paths []string, out io.Writer) (*bundle.Bundle, error) {
	set, diags, _ := loadForCLI(paths, out)
	if set != nil {
		hashed, err := agentIdentifiers(agentConfig)
		if err != nil {
			return nil, err
		}
		more := set.CheckIdentifiers(hashed)
		diags = append(diags, more...)
		if more.HasErrors() {
			set = nil
		}
	}
	_ = rules.WriteDiagnostics(out, diags, 100, false)
	if set == nil {
		fmt.Fprintf(out, "rejected: %d error(s)\n", countErrors(diags))
		return nil, errRejected
	}
	failed := 0
	for _, r := range set.RunTests() {
		if r.Passed {
			continue
		}
		failed++
		fmt.Fprintf(out, "FAIL  %s (%s)\n", r.Name, r.Pos)
		for _, f := range r.Failures {
			fmt.Fprintf(out, "      %s\n", f)
		}
	}
	if failed > 0 {
		fmt.Fprintf(out, "rejected: %d test(s) failed\n", failed)
		return nil, errRejected
	}
	for _, r := range set.Rules() {
		if r.Scope == rules.ScopeGlobal {
			fmt.Fprintf(out, "warning: rule %s is global: agents run host rules only; the collector's rules directory runs global ones\n", r.Name)
		}
	}
	b, err := bundles.Publish(dataDir, site, set, time.Now())
	if err != nil {
		return nil, err
	}
	return b, nil
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

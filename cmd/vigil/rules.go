package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/internal/cli"
	"github.com/vigilhq/vigil/rules"
)

// rulesCommand is vigil rules check|test|fmt|publish.
func rulesCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "rules",
		Short: "Check, test, format or publish (signed, to agents) HCL rule files (PATH: a directory or files)",
		Long: `Check, test, format or publish HCL rule files. PATH is a directory (its *.hcl files)
or files. docs/rules.md describes the language.`,
	}
	var check checkOptions
	checkCmd := &cobra.Command{
		Use:   "check [flags] PATH...",
		Short: "Compile rules and print diagnostics with file:line:col; exit 1 on errors",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return cli.Code(rulesCheck(check, args, c.OutOrStdout(), c.ErrOrStderr()))
		},
	}
	checkCmd.Flags().BoolVar(&check.asJSON, "json", false, "print the result as JSON")
	checkCmd.Flags().StringVar(&check.agentConfig, "agent-config", "", "the agents' agent.hcl `file`, whose db.identifiers rules may count (default "+defaultAgentConfig+" when present, else the built-in defaults)")
	var test testOptions
	testCmd := &cobra.Command{
		Use:   "test [flags] PATH...",
		Short: "Run the rules' test blocks; exit 1 on a failure",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return cli.Code(rulesTest(test, args, c.OutOrStdout(), c.ErrOrStderr()))
		},
	}
	testCmd.Flags().BoolVar(&test.asJSON, "json", false, "print the result as JSON")
	testCmd.Flags().StringVar(&test.run, "run", "", "run only tests whose name matches this regular `expression`")
	testCmd.Flags().BoolVarP(&test.verbose, "verbose", "v", false, "list passing tests too")
	var format fmtOptions
	fmtCmd := &cobra.Command{
		Use:   "fmt [flags] PATH...",
		Short: "Rewrite rule files in canonical formatting (hclwrite)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return cli.Code(rulesFmt(format, args, c.OutOrStdout(), c.ErrOrStderr()))
		},
	}
	fmtCmd.Flags().BoolVar(&format.check, "check", false, "only list files that are not formatted; exit 1 if any")
	fmtCmd.Flags().BoolVar(&format.asJSON, "json", false, "print the result as JSON")
	c.AddCommand(checkCmd, testCmd, fmtCmd, rulesPublishCommand())
	return c
}

type checkOptions struct {
	asJSON      bool
	agentConfig string
}

type testOptions struct {
	asJSON, verbose bool
	run             string
}

type fmtOptions struct {
	check, asJSON bool
}

func ruleFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		m, err := rules.Files(p)
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	return out, nil
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func loadForCLI(paths []string, stderr io.Writer) (*rules.Set, hcl.Diagnostics, bool) {
	files, err := ruleFiles(paths)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read rules", Detail: err.Error()}}, false
	}
	set, diags := rules.LoadFiles(files...)
	return set, diags, !diags.HasErrors()
}

type checkJSON struct {
	OK          bool                   `json:"ok"`
	Hash        string                 `json:"hash,omitempty"`
	Rules       []rules.RuleInfo       `json:"rules,omitempty"`
	Diagnostics []rules.DiagnosticJSON `json:"diagnostics"`
}

func rulesCheck(o checkOptions, paths []string, stdout, stderr io.Writer) int {
	asJSON, agentCfg := &o.asJSON, &o.agentConfig
	set, diags, ok := loadForCLI(paths, stderr)
	if set != nil {
		hashed, err := agentIdentifiers(*agentCfg)
		if err != nil {
			fmt.Fprintln(stderr, "vigil rules check:", err)
			return exitFail
		}
		more := set.CheckIdentifiers(hashed)
		diags = append(diags, more...)
		if more.HasErrors() {
			set, ok = nil, false
		}
	}
	if *asJSON {
		out := checkJSON{OK: ok, Diagnostics: rules.DiagnosticsJSON(diags)}
		if set != nil {
			out.Hash, out.Rules = set.Hash(), set.Rules()
		}
		writeJSON(stdout, out)
	} else {
		_ = rules.WriteDiagnostics(stdout, diags, 100, false)
		if set != nil {
			host, global := 0, 0
			for _, r := range set.Rules() {
				if r.Scope == rules.ScopeGlobal {
					global++
				} else {
					host++
				}
			}
			fmt.Fprintf(stdout, "ok: %d rules (%d host, %d global), %d tests, hash %.12s\n",
				host+global, host, global, set.TestCount(), set.Hash())
		} else {
			fmt.Fprintf(stdout, "rejected: %d error(s)\n", rules.ErrorCount(diags))
		}
	}
	if !ok {
		return exitFail
	}
	return exitOK
}

type testJSON struct {
	OK          bool                   `json:"ok"`
	Passed      int                    `json:"passed"`
	Failed      int                    `json:"failed"`
	Tests       []rules.TestResult     `json:"tests"`
	Untested    []string               `json:"untested,omitempty"`
	Diagnostics []rules.DiagnosticJSON `json:"diagnostics"`
}

func rulesTest(o testOptions, paths []string, stdout, stderr io.Writer) int {
	asJSON, runPat, verbose := &o.asJSON, &o.run, &o.verbose
	var filter *regexp.Regexp
	if *runPat != "" {
		var err error
		if filter, err = regexp.Compile(*runPat); err != nil {
			fmt.Fprintf(stderr, "vigil rules test: --run: %v\n", err)
			return exitUsage
		}
	}
	set, diags, ok := loadForCLI(paths, stderr)
	out := testJSON{OK: ok, Diagnostics: rules.DiagnosticsJSON(diags), Tests: []rules.TestResult{}}
	if set != nil {
		for _, r := range set.RunTests() {
			if filter != nil && !filter.MatchString(r.Name) {
				continue
			}
			out.Tests = append(out.Tests, r)
			if r.Passed {
				out.Passed++
			} else {
				out.Failed++
			}
		}
		out.Untested = set.Untested()
	}
	out.OK = ok && out.Failed == 0
	if *asJSON {
		writeJSON(stdout, out)
	} else {
		_ = rules.WriteDiagnostics(stdout, diags, 100, false)
		for _, r := range out.Tests {
			if r.Passed {
				if *verbose {
					fmt.Fprintf(stdout, "ok    %s (%s)\n", r.Name, r.Pos)
				}
				continue
			}
			fmt.Fprintf(stdout, "FAIL  %s (%s)\n", r.Name, r.Pos)
			for _, f := range r.Failures {
				fmt.Fprintf(stdout, "      %s\n", f)
			}
		}
		if filter == nil {
			for _, u := range out.Untested {
				fmt.Fprintf(stdout, "warning: rule %s has no test that expects it to fire\n", u)
			}
		}
		switch {
		case set == nil:
			fmt.Fprintf(stdout, "rejected: %d error(s); no tests ran\n", rules.ErrorCount(diags))
		case out.Failed > 0:
			fmt.Fprintf(stdout, "FAIL: %d passed, %d failed\n", out.Passed, out.Failed)
		default:
			fmt.Fprintf(stdout, "ok: %d passed\n", out.Passed)
		}
	}
	if !out.OK {
		return exitFail
	}
	return exitOK
}

type fmtJSON struct {
	OK          bool                   `json:"ok"`
	Changed     []string               `json:"changed"`
	Diagnostics []rules.DiagnosticJSON `json:"diagnostics"`
}

func rulesFmt(o fmtOptions, paths []string, stdout, stderr io.Writer) int {
	check, asJSON := &o.check, &o.asJSON
	files, err := ruleFiles(paths)
	if err != nil {
		fmt.Fprintf(stderr, "vigil rules fmt: %v\n", err)
		return exitFail
	}
	out := fmtJSON{OK: true, Changed: []string{}}
	var diags hcl.Diagnostics
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read rule file", Detail: err.Error()})
			continue
		}
		// Formatting broken syntax could mangle it; refuse instead.
		if _, d := hclsyntax.ParseConfig(src, f, hcl.InitialPos); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		formatted := hclwrite.Format(src)
		if bytes.Equal(src, formatted) {
			continue
		}
		out.Changed = append(out.Changed, f)
		if *check {
			continue
		}
		st, err := os.Stat(f)
		if err == nil {
			err = os.WriteFile(f, formatted, st.Mode().Perm())
		}
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot write rule file", Detail: err.Error()})
		}
	}
	out.Diagnostics = rules.DiagnosticsJSON(diags)
	out.OK = !diags.HasErrors() && !(*check && len(out.Changed) > 0)
	if *asJSON {
		writeJSON(stdout, out)
	} else {
		_ = rules.WriteDiagnostics(stderr, diags, 100, false)
		verb := "formatted"
		if *check {
			verb = "not formatted"
		}
		for _, f := range out.Changed {
			fmt.Fprintf(stdout, "%s: %s\n", verb, f)
		}
		if len(out.Changed) > 0 && *check {
			fmt.Fprintf(stdout, "run: vigil rules fmt %s\n", strings.Join(paths, " "))
		}
	}
	if !out.OK {
		return exitFail
	}
	return exitOK
}

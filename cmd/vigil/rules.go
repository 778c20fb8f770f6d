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
	"github.com/vigilhq/vigil/rules"
)

func init() {
	register(command{
		name:    "rules",
		usage:   "rules check|test|fmt|publish [flags] PATH...",
		summary: "check, test, format or publish (signed, to agents) HCL rule files (PATH: a directory or files)",
		run:     runRules,
	})
}

func runRules(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: vigil rules check|test|fmt|publish [flags] PATH...")
		return exitUsage
	}
	switch args[0] {
	case "check":
		return rulesCheck(args[1:], stdout, stderr)
	case "test":
		return rulesTest(args[1:], stdout, stderr)
	case "fmt":
		return rulesFmt(args[1:], stdout, stderr)
	case "publish":
		return rulesPublish(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "vigil rules: unknown subcommand %q (want check, test, fmt or publish)\n", args[0])
	return exitUsage
}

// ruleFiles expands directories to their *.hcl files.
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

func rulesCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rules check", stderr, "rules check [flags] DIR|FILE...")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	agentCfg := fs.String("agent-config", "", "the agents' agent.hcl `file`, whose db.identifiers rules may count (default "+defaultAgentConfig+" when present, else the built-in defaults)")
	paths, err := parseInterspersed(fs, args)
	if err != nil || len(paths) == 0 {
		fs.Usage()
		return exitUsage
	}
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
			fmt.Fprintf(stdout, "rejected: %d error(s)\n", countErrors(diags))
		}
	}
	if !ok {
		return exitFail
	}
	return exitOK
}

func countErrors(diags hcl.Diagnostics) int {
	n := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	return n
}

type testJSON struct {
	OK          bool                   `json:"ok"`
	Passed      int                    `json:"passed"`
	Failed      int                    `json:"failed"`
	Tests       []rules.TestResult     `json:"tests"`
	Untested    []string               `json:"untested,omitempty"`
	Diagnostics []rules.DiagnosticJSON `json:"diagnostics"`
}

func rulesTest(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rules test", stderr, "rules test [flags] DIR|FILE...")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	runPat := fs.String("run", "", "run only tests whose name matches this regular expression")
	verbose := fs.Bool("v", false, "list passing tests too")
	paths, err := parseInterspersed(fs, args)
	if err != nil || len(paths) == 0 {
		fs.Usage()
		return exitUsage
	}
	var filter *regexp.Regexp
	if *runPat != "" {
		if filter, err = regexp.Compile(*runPat); err != nil {
			fmt.Fprintf(stderr, "vigil rules test: -run: %v\n", err)
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
			fmt.Fprintf(stdout, "rejected: %d error(s); no tests ran\n", countErrors(diags))
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

func rulesFmt(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rules fmt", stderr, "rules fmt [flags] DIR|FILE...")
	check := fs.Bool("check", false, "only list files that are not formatted; exit 1 if any")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	paths, err := parseInterspersed(fs, args)
	if err != nil || len(paths) == 0 {
		fs.Usage()
		return exitUsage
	}
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

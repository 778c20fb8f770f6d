package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigilhq/vigil/collector/evidence"
	"github.com/vigilhq/vigil/collector/store"
)

// alertsCommand is vigil alerts and its subcommands.
func alertsCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "alerts",
		Short: "List, follow, show or triage alerts on the collector",
		Long: `List, follow, show or triage alerts on the collector.

Triage is recorded as done by the token's name (token:NAME).
` + apiHelp,
	}
	list := &cobra.Command{Use: "list [filters]", Short: "Alerts, newest first, as a table with dates", Args: cobra.NoArgs}
	tail := &cobra.Command{Use: "tail [filters]", Short: "Print alerts as they arrive (Ctrl-C stops)", Args: cobra.NoArgs}
	show := &cobra.Command{Use: "show ALERT_ID", Short: "One alert with its evidence events", Args: cobra.ExactArgs(1)}
	for _, sub := range []*cobra.Command{list, tail, show} {
		f := &alertsFlags{}
		f.connFlags(sub.Flags())
		sub.Flags().BoolVar(&f.asJSON, "json", false, "print JSON (one object per line for tail)")
		if sub != show {
			f.filterFlags(sub.Flags())
		}
		verb := strings.Fields(sub.Use)[0]
		sub.RunE = func(c *cobra.Command, args []string) error {
			return withSignals(func(ctx context.Context) error {
				switch verb {
				case "list":
					return alertsList(ctx, f, c.OutOrStdout())
				case "tail":
					return alertsTail(ctx, f, c.OutOrStdout())
				}
				return alertsShow(ctx, f, args[0], c.OutOrStdout())
			})
		}
		switch sub {
		case list:
			sub.Flags().IntVar(&f.limit, "limit", 100, "at most `n` alerts")
		case tail:
			sub.Flags().BoolVar(&f.fromStart, "from-start", false, "print stored alerts first")
		}
		c.AddCommand(sub)
	}
	for _, t := range []struct{ use, short string }{
		{"ack ALERT_ID", "Acknowledge an alert"},
		{"assign ALERT_ID --to USER", "Assign an alert to someone"},
		{"close ALERT_ID --reason R", "Close an alert: true_positive, benign or false_positive"},
		{"reopen ALERT_ID", "Open a closed alert again"},
		{"note ALERT_ID --note N", "Add a note to an alert"},
	} {
		f := &alertsFlags{}
		verb := strings.Fields(t.use)[0]
		sub := &cobra.Command{Use: t.use, Short: t.short, Args: cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				return withSignals(func(ctx context.Context) error { return alertsTriage(ctx, f, verb, args[0], c.OutOrStdout()) })
			}}
		f.connFlags(sub.Flags())
		if verb != "reopen" {
			sub.Flags().StringVar(&f.note, "note", "", "a `note` kept with the alert")
		}
		switch verb {
		case "close":
			sub.Flags().StringVar(&f.reason, "reason", "", "`why` (true_positive, benign, false_positive)")
			_ = sub.RegisterFlagCompletionFunc("reason", fixedCompletion(store.CloseReasons...))
		case "assign":
			sub.Flags().StringVar(&f.to, "to", "", "the `user` to assign to")
		}
		c.AddCommand(sub)
	}
	return c
}

// apiHelp says where the API commands find the collector and its token.
const apiHelp = `
The collector's API is --api (default $VIGIL_API or http://127.0.0.1:8080); its
token comes from --token-file, else $VIGIL_TOKEN, else $VIGIL_TOKEN_FILE, else
~/.config/vigil/token (vigil-collector token add NAME makes one).`

// defaultAPI is the collector's API when neither --api nor $VIGIL_API
// names it.
const defaultAPI = "http://127.0.0.1:8080"

type alertsFlags struct {
	api, site, host, person, sev, rule string
	tokenFile                          string
	since, status                      string
	reason, note, to                   string
	limit                              int
	asJSON, fromStart                  bool
}

// connFlags adds the flags that find the collector's API.
func (f *alertsFlags) connFlags(fs *pflag.FlagSet) {
	// The environment is read when the command runs, not here, so that the
	// generated man pages and completions do not carry the builder's.
	fs.StringVar(&f.api, "api", "", "collector API `URL` (default $VIGIL_API, else "+defaultAPI+")")
	fs.StringVar(&f.tokenFile, "token-file", "", "`file` holding the API token")
}

// filterFlags adds the flags that narrow a list of alerts.
func (f *alertsFlags) filterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.site, "site", "", "only alerts from `site`")
	fs.StringVar(&f.host, "host", "", "only alerts from `host`")
	fs.StringVar(&f.person, "person", "", "only alerts about `person`")
	fs.StringVar(&f.sev, "severity", "", "only alerts at least this `severe` (info, low, medium, high, critical)")
	fs.StringVar(&f.rule, "rule", "", "only alerts of `rule`")
	fs.StringVar(&f.since, "since", "", "only alerts since a `time` (RFC 3339) or duration ago (24h)")
	fs.StringVar(&f.status, "status", "", "only alerts whose triage `status` is open, acknowledged or closed")
}

func (f *alertsFlags) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"site": f.site, "host": f.host, "person": f.person, "severity": f.sev,
		"rule": f.rule, "since": f.since, "status": f.status} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// withSignals runs do until it returns or SIGINT/SIGTERM stops it, which
// is not an error.
func withSignals(do func(ctx context.Context) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := do(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// fixedCompletion completes a flag's value from a fixed list.
func fixedCompletion(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

// token finds the API token: --token-file, $VIGIL_TOKEN, $VIGIL_TOKEN_FILE
// or ~/.config/vigil/token, in that order.
func (f *alertsFlags) token() (string, error) {
	if f.tokenFile == "" {
		if t := os.Getenv("VIGIL_TOKEN"); t != "" {
			return t, nil
		}
	}
	path := f.tokenFile
	if path == "" {
		path = os.Getenv("VIGIL_TOKEN_FILE")
	}
	if path == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return "", errors.New("no API token: give --token-file or set VIGIL_TOKEN")
		}
		path = filepath.Join(dir, "vigil", "token")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the API token: %w (vigil-collector token add NAME makes one)", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// getJSON asks the collector's API for path with q and decodes the answer
// into into.
func (f *alertsFlags) getJSON(ctx context.Context, path string, q url.Values, into any) error {
	return f.call(ctx, http.MethodGet, path, q, nil, into)
}

// call sends method to the collector's API at path with q and body (JSON,
// when not nil) and decodes the answer into into.
func (f *alertsFlags) call(ctx context.Context, method, path string, q url.Values, body, into any) error {
	tok, err := f.token()
	if err != nil {
		return err
	}
	api := f.api
	if api == "" {
		api = os.Getenv("VIGIL_API")
	}
	if api == "" {
		api = defaultAPI
	}
	u := api + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("asking the collector: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(answer, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("collector answered %s", resp.Status)
	}
	return json.Unmarshal(answer, into)
}

// printAlerts writes alerts one line each, with the date, for tail: a
// stream cannot align columns over alerts yet to come.
func printAlerts(w io.Writer, list []store.Alert, asJSON bool) {
	for _, a := range list {
		if asJSON {
			b, _ := json.Marshal(a)
			fmt.Fprintln(w, string(b))
			continue
		}
		e := a.Event
		fmt.Fprintf(w, "%s  %-8s %-28s %s/%s  %s  %s  %s\n", when(e.Time), strings.ToUpper(e.Alert.Severity), e.Alert.Rule,
			e.Site, e.Host, orDash(a.Person), e.Alert.Summary, e.ID)
	}
}

// alertsTable writes alerts as aligned columns, for list.
func alertsTable(w io.Writer, list []store.Alert) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSEVERITY\tRULE\tSITE\tHOST\tPERSON\tSTATUS\tSUMMARY\tID")
	for _, a := range list {
		e := a.Event
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", when(e.Time), strings.ToUpper(e.Alert.Severity), e.Alert.Rule,
			e.Site, e.Host, orDash(a.Person), orDash(a.Status), e.Alert.Summary, e.ID)
	}
	return tw.Flush()
}

func alertsList(ctx context.Context, f *alertsFlags, w io.Writer) error {
	q := f.query()
	q.Set("limit", strconv.Itoa(f.limit))
	var list []store.Alert
	if err := f.getJSON(ctx, "/api/alerts", q, &list); err != nil {
		return err
	}
	if f.asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(w, "no alerts")
		return nil
	}
	return alertsTable(w, list)
}

func alertsTail(ctx context.Context, f *alertsFlags, w io.Writer) error {
	after := int64(0)
	if !f.fromStart {
		var latest []store.Alert
		if err := f.getJSON(ctx, "/api/alerts", url.Values{"limit": {"1"}}, &latest); err != nil {
			return err
		}
		if len(latest) > 0 {
			after = latest[0].N
		}
	}
	for ctx.Err() == nil {
		q := f.query()
		q.Set("after", strconv.FormatInt(after, 10))
		q.Set("wait", "30s")
		q.Set("limit", "1000")
		var list []store.Alert
		if err := f.getJSON(ctx, "/api/alerts", q, &list); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			fmt.Fprintln(os.Stderr, "vigil alerts tail:", err, "(retrying)")
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
			continue
		}
		printAlerts(w, list, f.asJSON)
		for _, a := range list {
			after = max(after, a.N)
		}
	}
	return nil
}

func alertsShow(ctx context.Context, f *alertsFlags, id string, w io.Writer) error {
	var d store.AlertDetail
	if err := f.getJSON(ctx, "/api/alerts/"+url.PathEscape(id), nil, &d); err != nil {
		return err
	}
	if f.asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	writeAlertDetail(w, &d)
	return nil
}

// writeAlertDetail writes an alert as an analyst reads it: what fired, who,
// where, and its evidence as a timeline of one line per event with the
// process behind it.
func writeAlertDetail(w io.Writer, d *store.AlertDetail) {
	e, a := d.Event, d.Event.Alert
	fmt.Fprintf(w, "%s  %s  %s\n", strings.ToUpper(a.Severity), a.Rule, a.Summary)
	if a.Description != "" {
		fmt.Fprintf(w, "  %s\n", a.Description)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "  %s\t%s\n", k, v) }
	row("when", when(e.Time))
	row("person", orDash(d.Person))
	row("where", fmt.Sprintf("%s / %s (agent %s, %s rule)", e.Site, e.Host, e.AgentID, orDash(a.Scope)))
	row("status", orDash(d.Status))
	if len(a.Tags) > 0 {
		row("tags", strings.Join(a.Tags, ", "))
	}
	row("id", e.ID)
	tw.Flush()
	fmt.Fprintf(w, "\nevidence (%d):\n", len(a.Evidence))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, ev := range d.Evidence {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", when(ev.Time), ev.Kind, evidence.Describe(ev))
		if l := evidence.Lineage(ev); l != "" {
			fmt.Fprintf(tw, "  \t\t%s\n", l)
		}
	}
	tw.Flush()
	for _, id := range d.Missing {
		fmt.Fprintf(w, "  %s (not in the store: not arrived yet, or pruned)\n", id)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
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

	"github.com/vigilhq/vigil/collector/evidence"
	"github.com/vigilhq/vigil/collector/store"
)

func init() {
	register(command{
		name:    "alerts",
		usage:   "alerts list|tail|show|ack|assign|close|reopen|note [flags]",
		summary: "list, follow, show or triage alerts on the collector",
		run:     runAlerts,
	})
}

const alertsUsage = `usage:
  vigil alerts list [filters] [--json]      alerts, newest first
  vigil alerts tail [filters] [--json]      print alerts as they arrive (Ctrl-C stops)
  vigil alerts show [--json] ALERT_ID       one alert with its evidence events
  vigil alerts ack ALERT_ID [--note N]      acknowledge an alert
  vigil alerts assign ALERT_ID --to USER    assign an alert to someone
  vigil alerts close ALERT_ID --reason R [--note N]
                                            close an alert: true_positive, benign, false_positive
  vigil alerts reopen ALERT_ID              open a closed alert again
  vigil alerts note ALERT_ID --note N       add a note

filters: --site S --host H --person P --severity MIN --rule R --status open|acknowledged|closed
         --since 24h --limit N
Triage is recorded as done by the token's name (token:NAME).
The collector's API is --api (default $VIGIL_API or http://127.0.0.1:8080); its
token comes from --token-file, else $VIGIL_TOKEN, else $VIGIL_TOKEN_FILE, else
~/.config/vigil/token (vigil-collector token add NAME makes one).
`

type alertsFlags struct {
	fs                                 *flag.FlagSet
	api, site, host, person, sev, rule *string
	tokenFile                          *string
	since, status                      *string
	reason, note, to                   *string
	limit                              *int
	asJSON, fromStart                  *bool
}

func newAlertsFlags(name string, stderr io.Writer) *alertsFlags {
	fs := flag.NewFlagSet("alerts "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := os.Getenv("VIGIL_API")
	if def == "" {
		def = "http://127.0.0.1:8080"
	}
	f := &alertsFlags{fs: fs,
		api:       fs.String("api", def, "collector API `URL`"),
		tokenFile: fs.String("token-file", "", "`file` holding the API token"),
		site:      fs.String("site", "", "only alerts from `site`"),
		host:      fs.String("host", "", "only alerts from `host`"),
		person:    fs.String("person", "", "only alerts about `person`"),
		sev:       fs.String("severity", "", "only alerts at least this `severe` (info, low, medium, high, critical)"),
		rule:      fs.String("rule", "", "only alerts of `rule`"),
		since:     fs.String("since", "", "only alerts since a `time` (RFC 3339) or duration ago (24h)"),
		status:    fs.String("status", "", "only alerts whose triage `status` is open, acknowledged or closed"),
		reason:    fs.String("reason", "", "close: `why` (true_positive, benign, false_positive)"),
		note:      fs.String("note", "", "a `note` kept with the alert"),
		to:        fs.String("to", "", "assign: the `user` to assign to"),
		limit:     fs.Int("limit", 100, "at most `n` alerts (list)"),
		asJSON:    fs.Bool("json", false, "print JSON (one object per line for tail)"),
	}
	f.fromStart = fs.Bool("from-start", false, "tail: print stored alerts first")
	return f
}

func (f *alertsFlags) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"site": *f.site, "host": *f.host, "person": *f.person, "severity": *f.sev,
		"rule": *f.rule, "since": *f.since, "status": *f.status} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

func runAlerts(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, alertsUsage)
		return exitUsage
	}
	sub := args[0]
	f := newAlertsFlags(sub, stderr)
	pos, err := parseInterspersed(f.fs, args[1:])
	if err != nil {
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	switch sub {
	case "list":
		err = alertsList(ctx, f, stdout)
	case "tail":
		err = alertsTail(ctx, f, stdout)
	case "show":
		if len(pos) != 1 {
			fmt.Fprint(stderr, alertsUsage)
			return exitUsage
		}
		err = alertsShow(ctx, f, pos[0], stdout)
	case "ack", "assign", "close", "reopen", "note":
		if len(pos) != 1 {
			fmt.Fprint(stderr, alertsUsage)
			return exitUsage
		}
		err = alertsTriage(ctx, f, sub, pos[0], stdout)
	default:
		fmt.Fprintf(stderr, "vigil alerts: unknown subcommand %q\n\n%s", sub, alertsUsage)
		return exitUsage
	}
	if err != nil && ctx.Err() == nil {
		fmt.Fprintln(stderr, "vigil alerts:", err)
		return exitFail
	}
	return exitOK
}

// token finds the API token: --token-file, $VIGIL_TOKEN, $VIGIL_TOKEN_FILE
// or ~/.config/vigil/token, in that order.
func (f *alertsFlags) token() (string, error) {
	if *f.tokenFile == "" {
		if t := os.Getenv("VIGIL_TOKEN"); t != "" {
			return t, nil
		}
	}
	path := *f.tokenFile
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
	u := *f.api + path
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
	q.Set("limit", strconv.Itoa(*f.limit))
	var list []store.Alert
	if err := f.getJSON(ctx, "/api/alerts", q, &list); err != nil {
		return err
	}
	if *f.asJSON {
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
	if !*f.fromStart {
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
		printAlerts(w, list, *f.asJSON)
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
	if *f.asJSON {
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

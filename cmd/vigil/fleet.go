package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/store"
)

var now = time.Now

// timeFormat is how the tables write a time: a date, a time, UTC.
const timeFormat = "2006-01-02 15:04:05Z"

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(timeFormat)
}

// ago says how long before now t was, to the second.
func ago(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return now().Sub(t).Truncate(time.Second).String() + " ago"
}

// agentsCommand is vigil agents list|show.
func agentsCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "agents",
		Short: "The fleet: each agent's liveness, version, sensors, spool and rules",
		Long:  "The fleet: each agent's liveness, version, sensors, spool and rules, from its heartbeats.\n" + apiHelp,
	}
	for _, sub := range []*cobra.Command{
		{Use: "list", Short: "Every agent, by site and host, with when it was last seen", Args: cobra.NoArgs},
		{Use: "show AGENT_ID", Short: "One agent's last heartbeat in full", Args: cobra.ExactArgs(1)},
	} {
		f := &alertsFlags{}
		f.connFlags(sub.Flags())
		sub.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
		sub.RunE = func(c *cobra.Command, args []string) error {
			return withSignals(func(ctx context.Context) error { return runAgents(ctx, f, args, c.OutOrStdout()) })
		}
		c.AddCommand(sub)
	}
	return c
}

// runAgents lists the agents, or shows the one args names.
func runAgents(ctx context.Context, f *alertsFlags, args []string, w io.Writer) error {
	var list []api.AgentState
	if err := f.getJSON(ctx, "/api/agents", nil, &list); err != nil {
		return err
	}
	if len(args) == 1 {
		return showAgent(w, list, args[0], f.asJSON)
	}
	if err := listAgents(w, list, f.asJSON); err != nil {
		return err
	}
	if f.asJSON {
		return nil
	}
	return listEnrolmentErrors(ctx, f, w)
}

func listAgents(w io.Writer, list []api.AgentState, asJSON bool) error {
	if asJSON {
		writeJSON(w, list)
		return nil
	}
	if len(list) == 0 {
		fmt.Fprintln(w, "no agents have reported")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SITE\tHOST\tAGENT\tSTATUS\tLAST SEEN\tLAST HEARTBEAT\tVERSION\tSENSORS\tSPOOL\tDROPPED\tRULES\tFROM\tBUNDLE\tSITE BUNDLE")
	for _, a := range list {
		version, sensors, spool, dropped, rules, mode := "-", "-", "-", "-", "-", "-"
		if hb := a.Heartbeat; hb != nil {
			version = orDash(hb.Version)
			sensors = orDash(strings.Join(hb.Sensors, ","))
			spool = fmt.Sprint(hb.SpoolDepth)
			dropped = fmt.Sprint(hb.SpoolDropped + sum(hb.KernelDrops))
			rules = short(hb.RuleSetHash)
			mode = orDash(hb.RulesMode)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Site, a.Host, a.AgentID, orDash(a.Status),
			ago(a.LastSeen), ago(a.LastHeartbeat), version, sensors, spool, dropped, rules, mode, bundleOf(a), siteBundle(a))
	}
	return tw.Flush()
}

// bundleOf is the rule bundle a runs, marked STALE when it is not its
// site's current one and REFUSED when it refused one.
func bundleOf(a api.AgentState) string {
	out := "-"
	if hb := a.Heartbeat; hb != nil && hb.BundleVersion > 0 {
		out = fmt.Sprint(hb.BundleVersion)
	}
	if a.BundleStale {
		out += " STALE"
	}
	if hb := a.Heartbeat; hb != nil && hb.BundleRefused != "" {
		out += " REFUSED"
	}
	return out
}

// siteBundle is the bundle a's site is served, "-" for none.
func siteBundle(a api.AgentState) string {
	if a.SiteBundle == 0 {
		return "-"
	}
	return fmt.Sprint(a.SiteBundle)
}

func showAgent(w io.Writer, list []api.AgentState, id string, asJSON bool) error {
	var a *api.AgentState
	for i := range list {
		if list[i].AgentID == id {
			a = &list[i]
		}
	}
	if a == nil {
		return fmt.Errorf("no agent %q has reported (vigil agents list shows those that have)", id)
	}
	if asJSON {
		writeJSON(w, a)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("agent", a.AgentID)
	row("site / host", a.Site+" / "+a.Host)
	row("status", orDash(a.Status))
	row("first seen", when(a.FirstSeen))
	row("last seen", when(a.LastSeen)+" ("+ago(a.LastSeen)+")")
	row("last heartbeat", when(a.LastHeartbeat)+" ("+ago(a.LastHeartbeat)+")")
	row("boot", a.BootID)
	if hb := a.Heartbeat; hb != nil {
		row("version", orDash(hb.Version))
		row("kernel", orDash(hb.KernelVersion))
		row("sensors", orDash(strings.Join(hb.Sensors, ", ")))
		row("host rules", orDash(hb.RuleSetHash))
		row("rules from", orDash(hb.RulesMode))
		bundle := bundleOf(*a) + ", its site's " + siteBundle(*a)
		if hb.BundleRefused != "" {
			bundle += "; refused the last offered: " + hb.BundleRefused
		}
		row("rule bundle", bundle)
		row("events sent", fmt.Sprint(hb.Events))
		row("spool", fmt.Sprintf("%d events waiting, %d dropped when full", hb.SpoolDepth, hb.SpoolDropped))
		row("kernel drops", drops(hb.KernelDrops))
		row("cpu / memory", fmt.Sprintf("%.1f%% of the host / %.1f MiB", hb.CPUPercent, float64(hb.RSSBytes)/(1<<20)))
	} else {
		row("heartbeat", "none yet")
	}
	return tw.Flush()
}

// listEnrolmentErrors names the agents the collector locks out because it
// cannot use their enrolment records: they never appear in the table above.
func listEnrolmentErrors(ctx context.Context, f *alertsFlags, w io.Writer) error {
	var e api.Enrolment
	if err := f.getJSON(ctx, "/api/enrolment", nil, &e); err != nil {
		return err
	}
	if len(e.Errors) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n%d enrolment record(s) the collector cannot use; those agents' keys are refused until fixed:\n", len(e.Errors))
	for _, msg := range e.Errors {
		fmt.Fprintf(w, "  %s\n", msg)
	}
	return nil
}

// lossCommand is vigil loss.
func lossCommand() *cobra.Command {
	f := &alertsFlags{}
	var agent string
	c := &cobra.Command{
		Use:   "loss",
		Short: "Events the collector knows were lost, and why",
		Long:  "Events the collector knows were lost (kernel drops, full spools, sequence gaps), and why.\n" + apiHelp,
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return withSignals(func(ctx context.Context) error {
				q := url.Values{}
				if agent != "" {
					q.Set("agent_id", agent)
				}
				var list []store.Loss
				if err := f.getJSON(ctx, "/api/loss", q, &list); err != nil {
					return err
				}
				return listLoss(c.OutOrStdout(), list, f.asJSON)
			})
		},
	}
	f.connFlags(c.Flags())
	c.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
	c.Flags().StringVar(&agent, "agent", "", "only the loss of agent `ID`")
	return c
}

func listLoss(w io.Writer, list []store.Loss, asJSON bool) error {
	if asJSON {
		writeJSON(w, list)
		return nil
	}
	if len(list) == 0 {
		fmt.Fprintln(w, "no loss recorded")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSITE\tHOST\tAGENT\tREASON\tSENSOR\tEVENTS\tSEQS\tSTATE")
	for _, l := range list {
		seqs, state := "-", "confirmed"
		if l.FromSeq != 0 || l.ToSeq != 0 {
			seqs = fmt.Sprintf("%d-%d", l.FromSeq, l.ToSeq)
		}
		if l.Pending {
			state = "pending (late events may fill it)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", when(l.Time), l.Site, l.Host, l.AgentID, l.Reason,
			orDash(l.Sensor), l.Count, seqs, state)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// short is the first 12 characters of a hash, as git shows a commit.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return orDash(h)
}

func sum(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

func drops(m map[string]uint64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

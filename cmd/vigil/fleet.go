package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/store"
)

func init() {
	register(command{name: "agents", usage: "agents list|show [flags]", summary: "the fleet: each agent's liveness, version, sensors, spool and rules", run: runAgents})
	register(command{name: "loss", usage: "loss [--agent ID] [--json]", summary: "events the collector knows were lost, and why", run: runLoss})
}

const agentsUsage = `usage:
  vigil agents list [--json]            every agent, by site and host
  vigil agents show [--json] AGENT_ID   one agent's last heartbeat in full

The collector's API and token are found as for vigil alerts (--api, --token-file).
`

// now is the clock the tables measure ages against; tests fix it.
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

func runAgents(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, agentsUsage)
		return exitUsage
	}
	sub := args[0]
	f := newAlertsFlags(sub, stderr)
	f.fs.Usage = func() { fmt.Fprint(stderr, agentsUsage) }
	pos, err := parseInterspersed(f.fs, args[1:])
	if err != nil {
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var list []store.Agent
	switch {
	case sub == "list" && len(pos) == 0, sub == "show" && len(pos) == 1:
		err = f.getJSON(ctx, "/api/agents", nil, &list)
	default:
		fmt.Fprint(stderr, agentsUsage)
		return exitUsage
	}
	if err == nil && sub == "show" {
		err = showAgent(stdout, list, pos[0], *f.asJSON)
	} else if err == nil {
		err = listAgents(stdout, list, *f.asJSON)
	}
	if err == nil && sub == "list" && !*f.asJSON {
		err = listEnrolmentErrors(ctx, f, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "vigil agents:", err)
		return exitFail
	}
	return exitOK
}

func listAgents(w io.Writer, list []store.Agent, asJSON bool) error {
	if asJSON {
		writeJSON(w, list)
		return nil
	}
	if len(list) == 0 {
		fmt.Fprintln(w, "no agents have reported")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SITE\tHOST\tAGENT\tSTATUS\tLAST SEEN\tLAST HEARTBEAT\tVERSION\tSENSORS\tSPOOL\tDROPPED\tRULES")
	for _, a := range list {
		version, sensors, spool, dropped, rules := "-", "-", "-", "-", "-"
		if hb := a.Heartbeat; hb != nil {
			version = orDash(hb.Version)
			sensors = orDash(strings.Join(hb.Sensors, ","))
			spool = fmt.Sprint(hb.SpoolDepth)
			dropped = fmt.Sprint(hb.SpoolDropped + sum(hb.KernelDrops))
			rules = short(hb.RuleSetHash)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Site, a.Host, a.AgentID, orDash(a.Status),
			ago(a.LastSeen), ago(a.LastHeartbeat), version, sensors, spool, dropped, rules)
	}
	return tw.Flush()
}

func showAgent(w io.Writer, list []store.Agent, id string, asJSON bool) error {
	var a *store.Agent
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

func runLoss(args []string, stdout, stderr io.Writer) int {
	f := newAlertsFlags("loss", stderr)
	agent := f.fs.String("agent", "", "only the loss of agent `ID`")
	if _, err := parseInterspersed(f.fs, args); err != nil {
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	q := url.Values{}
	if *agent != "" {
		q.Set("agent_id", *agent)
	}
	var list []store.Loss
	err := f.getJSON(ctx, "/api/loss", q, &list)
	if err == nil {
		err = listLoss(stdout, list, *f.asJSON)
	}
	if err != nil {
		fmt.Fprintln(stderr, "vigil loss:", err)
		return exitFail
	}
	return exitOK
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

package correlate

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

const twoSites = `
threshold "person_at_two_sites" {
  scope    = "global"
  severity = "high"
  when     = kind == "db.query" && person != ""
  by       = [person]
  distinct = site
  window   = "1h"
  limit    = 1
  summary  = "${person} at ${value} sites"
}
`

// hostOnly has the default scope, host: the agent runs it, not the collector.
const hostOnly = `
rule "any_query" {
  severity = "low"
  when     = kind == "db.query"
  summary  = "a query"
}
`

const anyExec = `
rule "any_exec" {
  scope    = "global"
  severity = "medium"
  when     = kind == "process.exec"
  by       = [person]
  summary  = "${person} ran something"
}
`

func query(site, agent string, seq uint64) *event.Event {
	return &event.Event{ID: event.MakeID("b-"+agent, seq), Time: t0.Add(time.Duration(seq) * time.Second),
		Kind: event.KindDBQuery, Site: site, Host: "h-" + agent, AgentID: agent, BootID: "b-" + agent, Seq: seq,
		Process: &event.Process{PID: 10, User: "mona"}, DB: &event.DB{Engine: "postgresql", Statement: "SELECT 1"}}
}

func exec(seq uint64) *event.Event {
	ev := query("leeds", "ag-1", seq)
	ev.Kind, ev.DB = event.KindProcessExec, nil
	return ev
}

// ruleDir writes files (name: content) into a fresh directory.
func ruleDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		writeRules(t, dir, name, content)
	}
	return dir
}

func writeRules(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rulesOf(alerts []event.Event) string {
	var out []string
	for _, a := range alerts {
		out = append(out, a.Alert.Rule)
	}
	return strings.Join(out, " ")
}

func TestNoRuleDirectory(t *testing.T) {
	e, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Process(query("leeds", "ag-1", 1)); len(got) != 0 {
		t.Errorf("no rules raised %s", rulesOf(got))
	}
	if e.Hash() != "" {
		t.Errorf("hash %q with no rules", e.Hash())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.Watch(ctx) // returns at once: nothing to watch
}

// A directory that does not compile gives no engine and says where.
func TestLoadRefusesBadRules(t *testing.T) {
	dir := ruleDir(t, map[string]string{"good.hcl": twoSites, "bad.hcl": "rule \"x\" {\n  severity = \"high\"\n  when = kind ==\n}\n"})
	e, err := Load(dir, nil)
	if err == nil || e != nil {
		t.Fatalf("engine %v, error %v; want no engine and an error", e, err)
	}
	if !strings.Contains(err.Error(), "bad.hcl line 3") || !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not point at bad.hcl's line in %s", err, dir)
	}
}

// Only scope "global" rules run in the collector; their alerts carry the
// agent of the event that completed them.
func TestGlobalRulesOnly(t *testing.T) {
	e, err := Load(ruleDir(t, map[string]string{"corr.hcl": twoSites, "host.hcl": hostOnly}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Process(query("leeds", "ag-1", 1)); len(got) != 0 {
		t.Fatalf("one site raised %s", rulesOf(got))
	}
	got := e.Process(query("manila", "ag-2", 1))
	if rulesOf(got) != "person_at_two_sites" {
		t.Fatalf("second site raised %q, want person_at_two_sites only", rulesOf(got))
	}
	al := got[0]
	if al.AgentID != "ag-2" || al.BootID != "collector" || al.Alert.Scope != "global" || len(al.Alert.Evidence) != 2 {
		t.Errorf("alert agent %s boot %s scope %s evidence %v; want ag-2, collector, global and both queries",
			al.AgentID, al.BootID, al.Alert.Scope, al.Alert.Evidence)
	}
	if st := e.Stats(); st.Events != 2 || st.Alerts != 1 {
		t.Errorf("stats %+v, want 2 events and 1 alert", st)
	}
}

// Host rules run at the collector over the statements it attributed to a
// client end, and over nothing else: the agents run them on the rest.
// Their alerts pass the global rules like an agent's.
func TestHostRulesOverAttributedStatements(t *testing.T) {
	const aboutHostAlerts = `
rule "host_alert_seen" {
  scope    = "global"
  severity = "low"
  when     = kind == "alert" && alert.scope == "host"
  summary  = "host alert ${alert.rule}"
}
`
	e, err := Load(ruleDir(t, map[string]string{"host.hcl": hostOnly, "corr.hcl": aboutHostAlerts}), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, status := range []string{"", event.AttributionDuplicate, event.AttributionUnjoined} {
		ev := query("dc", "ag-db", 1)
		if status != "" {
			ev.Attribution = &event.Attribution{Status: status, By: event.AttributedByCollector}
		}
		if got := e.Process(ev.AsClient()); len(got) != 0 {
			t.Errorf("status %q raised %s", status, rulesOf(got))
		}
	}
	ev := query("dc", "ag-db", 2)
	ev.Attribution = &event.Attribution{Status: event.AttributionAttributed, By: event.AttributedByCollector,
		Site: "leeds", Host: "ws-7", AgentID: "ag-ws", User: "nadia", LoginUser: "nadia", LoginUID: 1201}
	got := e.Process(ev.AsClient())
	if rulesOf(got) != "any_query host_alert_seen" {
		t.Fatalf("an attributed statement raised %q, want any_query then host_alert_seen", rulesOf(got))
	}
	if al := got[0]; al.Alert.Scope != "host" || al.Host != "ws-7" || al.Person() != "nadia" || al.AgentID != "ag-ws" || !strings.HasPrefix(al.ID, "corr-") {
		t.Errorf("host alert %+v: want scope host, about nadia on ws-7, ag-ws, a corr- id", al)
	}
}

// A correlation alert is named by what it is about, so the same events
// processed again after a restart make the same id and the store keeps one.
func TestAlertIDIsStable(t *testing.T) {
	dir := ruleDir(t, map[string]string{"corr.hcl": twoSites})
	run := func(events ...*event.Event) string {
		e, err := Load(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, ev := range events {
			for _, al := range e.Process(ev) {
				ids = append(ids, al.ID)
			}
		}
		if len(ids) != 1 {
			t.Fatalf("alerts %v, want one", ids)
		}
		return ids[0]
	}
	first := run(query("leeds", "ag-1", 1), query("manila", "ag-2", 1))
	if !regexp.MustCompile(`^corr-[0-9a-f]{24}$`).MatchString(first) {
		t.Fatalf("id %q, want corr- and 24 hex digits", first)
	}
	if again := run(query("leeds", "ag-1", 1), query("manila", "ag-2", 1)); again != first {
		t.Errorf("same events after a restart: id %s, was %s", again, first)
	}
	if other := run(query("leeds", "ag-1", 2), query("manila", "ag-2", 2)); other == first {
		t.Errorf("other evidence gave the same id %s", other)
	}
}

func TestStampAlert(t *testing.T) {
	mk := func(rule string, group map[string]string, evidence ...string) *event.Event {
		return &event.Event{Alert: &event.Alert{Rule: rule, Group: group, Evidence: evidence}}
	}
	id := func(al *event.Event) string { stampAlert(al); return al.ID }
	base := id(mk("r", map[string]string{"person": "mona", "site": "leeds"}, "e1", "e2"))
	for name, al := range map[string]*event.Event{
		"another rule":          mk("s", map[string]string{"person": "mona", "site": "leeds"}, "e1", "e2"),
		"another group value":   mk("r", map[string]string{"person": "ali", "site": "leeds"}, "e1", "e2"),
		"another group key":     mk("r", map[string]string{"user": "mona", "site": "leeds"}, "e1", "e2"),
		"other evidence":        mk("r", map[string]string{"person": "mona", "site": "leeds"}, "e1"),
		"evidence in new order": mk("r", map[string]string{"person": "mona", "site": "leeds"}, "e2", "e1"),
	} {
		if got := id(al); got == base {
			t.Errorf("%s: same id %s", name, got)
		}
	}
	// Rule and group fields run together must not collide.
	if id(mk("ab", nil, "c")) == id(mk("a", nil, "bc")) {
		t.Error("rule ab with evidence c has the id of rule a with evidence bc")
	}
	al := mk("r", nil)
	al.Alert.Scope = "host"
	stampAlert(al)
	if al.Alert.Scope != "host" || al.BootID != "collector" {
		t.Errorf("scope %s boot %s, want the alert's own scope kept and boot collector", al.Alert.Scope, al.BootID)
	}
}

// A change to the rules replaces them; a change that does not compile is
// logged and counted, and the previous rules keep running.
func TestReload(t *testing.T) {
	dir := ruleDir(t, map[string]string{"corr.hcl": twoSites})
	var logs bytes.Buffer
	e, err := Load(dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	first := e.Hash()

	writeRules(t, dir, "exec.hcl", anyExec)
	if !e.watch.Reload() {
		t.Fatal("a good change was not loaded")
	}
	if e.Hash() == first || !strings.Contains(logs.String(), "correlation rules reloaded") {
		t.Fatalf("hash %s (was %s), log %s; want a new hash, logged", e.Hash(), first, logs.String())
	}
	if got := rulesOf(e.Process(exec(1))); got != "any_exec" {
		t.Fatalf("after the reload, an exec raised %q, want any_exec", got)
	}
	good := e.Hash()

	writeRules(t, dir, "exec.hcl", "rule \"any_exec\" {\n  when = \n}\n")
	if e.watch.Reload() {
		t.Fatal("a bad change was loaded")
	}
	if e.ReloadErrors() != 1 || e.Hash() != good {
		t.Errorf("reload errors %d, hash %s; want 1 and the good set's %s", e.ReloadErrors(), e.Hash(), good)
	}
	if !strings.Contains(logs.String(), "previous set keeps running") || !strings.Contains(logs.String(), "exec.hcl") {
		t.Errorf("log %s does not report the bad file", logs.String())
	}
	if got := rulesOf(e.Process(exec(2))); got != "any_exec" {
		t.Errorf("after a refused reload, an exec raised %q, want any_exec from the good set", got)
	}
	if names := e.eng.Set().Names(); !slices.Contains(names, "person_at_two_sites") {
		t.Errorf("rules running %v", names)
	}
}

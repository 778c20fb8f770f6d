package e2e

// Helpers for the scenario tests: the real vigil-agent binary (eBPF
// sensors) publishing to the real collector, people acting through real
// clients (psql, pg_dump, curl, dd) with their own login uid, and checks on
// the alerts and evidence in the collector's store.

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/enrol"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// testRules writes the shipped pack plus a site values file into a fresh
// directory, so scenarios can set variables without touching rules/packs.
func testRules(t *testing.T, values string) string {
	t.Helper()
	dir := t.TempDir()
	packs, err := filepath.Glob("../../rules/packs/*.hcl")
	if err != nil || len(packs) == 0 {
		t.Fatalf("no rule packs found: %v", err)
	}
	for _, p := range packs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if values != "" {
		if err := os.WriteFile(filepath.Join(dir, "zz-site-values.hcl"), []byte(values), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// agentOpts describe one vigil-agent process.
type agentOpts struct {
	site, host string
	dbPorts    []int
	rulesDir   string
	keyFile    string
	idColumns  []string
	// sensors to run (default all four).
	sensors []string
	// open connects without the enrolled NKey (an external NATS without
	// accounts), naming the site and agent id in the config instead.
	open bool
	// under is a command line the agent runs under (setpriv, as the
	// packaged unit limits it).
	under []string
	// dbExtra is more settings for the db block, one per line.
	dbExtra []string
	// enrolled, if set, runs once the agent is enrolled and before it
	// starts, as an operator lets an external NATS know the new key.
	enrolled func()
}

type agentProc struct {
	*testproc.Agent
	id, site, host string
}

// startAgent enrols an agent in the collector's data directory, runs the
// vigil-agent binary publishing to the collector's NATS, and returns once
// the collector has a heartbeat saying every sensor is attached.
func startAgent(t *testing.T, c *collector, data, natsURL string, o agentOpts) *agentProc {
	t.Helper()
	testkernel.RequireRoot(t)
	a, creds, err := enrol.Enrol(filepath.Join(data, "agents"), o.site, o.host, "")
	if err != nil {
		t.Fatal(err)
	}
	if o.enrolled != nil {
		o.enrolled()
	}
	dir := t.TempDir()
	credsPath := filepath.Join(dir, "agent.creds")
	if err := os.WriteFile(credsPath, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	ports := make([]string, len(o.dbPorts))
	for i, p := range o.dbPorts {
		ports[i] = fmt.Sprint(p)
	}
	quoted := func(ss []string) string {
		q := make([]string, len(ss))
		for i, s := range ss {
			q[i] = fmt.Sprintf("%q", s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	want := o.sensors
	if len(want) == 0 {
		want = []string{"process", "file", "net", "db"}
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "host      = %q\nstate_dir = %q\nrules_dir = %q\n", o.host, filepath.Join(dir, "state"), o.rulesDir)
	// The agent sees the whole host, including every other test running
	// beside this one: a generous ring keeps their bursts from crowding
	// out the scenario's events (drops show as loss in dump).
	cfg.WriteString("ring_buffer_mib = 64\n")
	fmt.Fprintf(&cfg, "site      = %q\nagent_id  = %q\n", o.site, a.AgentID)
	cfg.WriteString("sensors {\n")
	for _, name := range []string{"process", "file", "net", "db"} {
		fmt.Fprintf(&cfg, "  %s = %v\n", name, slices.Contains(want, name))
	}
	fmt.Fprintf(&cfg, "}\ndb {\n  ports = [%s]\n  identifier_columns = %s\n", strings.Join(ports, ", "), quoted(o.idColumns))
	if o.keyFile != "" {
		fmt.Fprintf(&cfg, "  key_file = %q\n", o.keyFile)
	}
	for _, line := range o.dbExtra {
		fmt.Fprintf(&cfg, "  %s\n", line)
	}
	fmt.Fprintf(&cfg, "}\ncollector {\n  url = %q\n  heartbeat = \"1s\"\n", natsURL)
	if !o.open {
		fmt.Fprintf(&cfg, "  creds = %q\n", credsPath)
	}
	cfg.WriteString("}\n")
	hcl := cfg.String()
	cfgPath := filepath.Join(dir, "agent.hcl")
	if err := os.WriteFile(cfgPath, []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startAgentProcess(t, cfgPath, len(want), o.under...)
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		var agents []store.Agent
		c.get(t, "/api/agents", &agents)
		for _, ag := range agents {
			if ag.AgentID == a.AgentID && ag.Heartbeat != nil {
				have := ag.Heartbeat.Sensors
				for _, w := range want {
					if !slices.Contains(have, w) {
						return fmt.Errorf("agent %s heartbeat has sensors %v, want %v", o.host, have, want)
					}
				}
				return nil
			}
		}
		return fmt.Errorf("no heartbeat from agent %s yet", o.host)
	})
	return &agentProc{Agent: p, id: a.AgentID, site: o.site, host: o.host}
}

// deploymentKey writes a shared identifier-hash key for agents.
func deploymentKey(t *testing.T) (path string, key []byte) {
	t.Helper()
	key = []byte("e2e-deployment-key-0123456789abcdef")
	path = filepath.Join(t.TempDir(), "deployment.key")
	if err := os.WriteFile(path, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, key
}

// person is a local account the scenarios act as. Its commands run with
// the account's login uid, as after a login (pam_loginuid), so the agent
// attributes them to the person whoever the process runs as.
type person struct {
	name string
	uid  string
	home string
}

// ensurePerson creates a system account (removed when the test ends if
// this test created it).
func ensurePerson(t *testing.T, name string) *person {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		if out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
			t.Fatalf("useradd %s: %v: %s", name, err, out)
		}
		t.Cleanup(func() { exec.Command("userdel", name).Run() })
		if u, err = user.Lookup(name); err != nil {
			t.Fatal(err)
		}
	}
	return &person{name: name, uid: u.Uid, home: t.TempDir()}
}

// cmd returns a command run by the person: the login uid is set before exec
// and inherited by everything the command starts.
func (p *person) cmd(name string, args ...string) *exec.Cmd {
	c := exec.Command("/bin/sh", append([]string{"-c", `echo "$0" > /proc/self/loginuid && exec "$@"`, p.uid, name}, args...)...)
	c.Env = append(os.Environ(), "HOME="+p.home, "PGCONNECT_TIMEOUT=10")
	return c
}

func (p *person) run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := p.cmd(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, testproc.Tail(string(out), 2000))
	}
	return string(out)
}

// pgURL is a connection URL for role on srvPort with sslmode.
func pgURL(port int, role, sslmode string) string {
	u := url.URL{Scheme: "postgres", User: url.User(role), Host: fmt.Sprintf("127.0.0.1:%d", port), Path: "/postgres",
		RawQuery: "sslmode=" + sslmode}
	return u.String()
}

// uploadSink accepts HTTP uploads on addresses added to the loopback
// device, so "outbound" transfers never leave this machine yet are not
// loopback addresses to the agent.
type uploadSink struct {
	urls map[string]string // address -> base URL
}

func startUploadSink(t *testing.T, addrs ...string) *uploadSink {
	t.Helper()
	testkernel.RequireRoot(t)
	s := &uploadSink{urls: map[string]string{}}
	for _, a := range addrs {
		out, err := exec.Command("ip", "addr", "add", a+"/32", "dev", "lo").CombinedOutput()
		if err != nil && !strings.Contains(string(out), "File exists") {
			t.Fatalf("adding %s to lo: %v: %s", a, err, out)
		}
		if err == nil {
			t.Cleanup(func() { exec.Command("ip", "addr", "del", a+"/32", "dev", "lo").Run() })
		}
		l, err := net.Listen("tcp", a+":0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, _ := io.Copy(io.Discard, r.Body)
			fmt.Fprintf(w, "received %d bytes\n", n)
		})}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
		s.urls[a] = "http://" + l.Addr().String() + "/upload"
	}
	return s
}

// upload sends file to the sink at addr with curl, as the person.
func (s *uploadSink) upload(t *testing.T, p *person, addr, file string) {
	t.Helper()
	out := p.run(t, "curl", "-sS", "--fail", "--noproxy", "*", "--data-binary", "@"+file, s.urls[addr])
	if !strings.HasPrefix(out, "received ") {
		t.Fatalf("upload answered %q", out)
	}
}

// alertsFor lists stored alerts of rule about a person (any when empty).
func (c *collector) alertsFor(t *testing.T, rule, person string) []store.Alert {
	t.Helper()
	q := url.Values{}
	if rule != "" {
		q.Set("rule", rule)
	}
	if person != "" {
		q.Set("person", person)
	}
	var list []store.Alert
	c.get(t, "/api/alerts?"+q.Encode(), &list)
	return list
}

// awaitAlert waits for an alert of rule about person and returns it with
// every evidence event stored.
func (c *collector) awaitAlert(t *testing.T, rule, person string) *store.AlertDetail {
	t.Helper()
	var d store.AlertDetail
	defer func() {
		if t.Failed() {
			c.dump(t)
		}
	}()
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		list := c.alertsFor(t, rule, person)
		if len(list) == 0 {
			return fmt.Errorf("no %s alert about %s yet", rule, person)
		}
		oldest := list[len(list)-1]
		d = store.AlertDetail{}
		c.get(t, "/api/alerts/"+url.PathEscape(oldest.Event.ID), &d)
		if len(d.Missing) != 0 || len(d.Evidence) == 0 {
			return fmt.Errorf("%s alert %s about %s: %d evidence events stored, %d missing", rule, oldest.Event.ID, person, len(d.Evidence), len(d.Missing))
		}
		return nil
	})
	if d.Event.Kind != event.KindAlert || d.Event.Alert == nil || d.Event.Alert.Rule != rule {
		t.Fatalf("alert %s is not a %s alert: %+v", d.Event.ID, rule, d.Event)
	}
	if len(d.Evidence) != len(d.Event.Alert.Evidence) {
		t.Fatalf("alert %s cites %d events, store returned %d", d.Event.ID, len(d.Event.Alert.Evidence), len(d.Evidence))
	}
	return &d
}

// evidenceOf checks an alert's evidence: every cited event is stored, was
// sent by the alerting agent (host rules) or names person, and is of one of
// kinds; each kind in must is present. It returns the evidence by kind.
func evidenceOf(t *testing.T, d *store.AlertDetail, person string, kinds []event.Kind, must ...event.Kind) map[event.Kind][]*event.Event {
	t.Helper()
	by := map[event.Kind][]*event.Event{}
	for i, ev := range d.Evidence {
		if ev.ID != d.Event.Alert.Evidence[i] {
			t.Errorf("%s: evidence %d is %s, the alert cites %s", d.Event.Alert.Rule, i, ev.ID, d.Event.Alert.Evidence[i])
		}
		if !slices.Contains(kinds, ev.Kind) {
			t.Errorf("%s: evidence %s is a %s event, want one of %v", d.Event.Alert.Rule, ev.ID, ev.Kind, kinds)
		}
		if got := ev.Process.Person(); got != person {
			t.Errorf("%s: evidence %s (%s) is about %q, want %q", d.Event.Alert.Rule, ev.ID, ev.Kind, got, person)
		}
		by[ev.Kind] = append(by[ev.Kind], ev)
	}
	for _, k := range must {
		if len(by[k]) == 0 {
			t.Errorf("%s: no %s event among the evidence %v", d.Event.Alert.Rule, k, d.Event.Alert.Evidence)
		}
	}
	return by
}

// storedEvents counts an agent's stored events of kind about person (any
// when empty) that match the SQL condition cond on the JSON body (e.g. a
// statement filter), through a read-only connection.
func storedEvents(t *testing.T, data, agentID string, kind event.Kind, person, cond string) int {
	t.Helper()
	db, err := openStoreRO(data)
	if err != nil {
		return -1
	}
	defer db.Close()
	// A db.query the agent folded from repeats stands for db.executions runs.
	q := `SELECT coalesce(sum(coalesce(json_extract(body, '$.db.executions'), 1)), 0) FROM events WHERE agent_id = ? AND kind = ?`
	args := []any{agentID, string(kind)}
	if person != "" {
		q += " AND person = ?"
		args = append(args, person)
	}
	if cond != "" {
		q += " AND " + cond
	}
	var n int
	if err := db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		return -1
	}
	return n
}

// openStoreRO opens the store of the collector with data directory data
// read-only: it takes no write lock, so the running collector goes on.
func openStoreRO(data string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+filepath.Join(data, "vigil.db")+"?mode=ro&_pragma=busy_timeout(5000)")
}

// storedPaths lists the time and file path of agentID's stored events of
// kind that meet cond, to name what a test did not expect.
func storedPaths(t *testing.T, data, agentID string, kind event.Kind, cond string) string {
	t.Helper()
	db, err := openStoreRO(data)
	if err != nil {
		return err.Error()
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), `SELECT json_extract(body, '$.time'), coalesce(json_extract(body, '$.file.path'), ''),
		coalesce(json_extract(body, '$.file.old_path'), '') FROM events WHERE agent_id = ? AND kind = ? AND `+cond+` ORDER BY seq`, agentID, string(kind))
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ts, path, old string
		if err := rows.Scan(&ts, &path, &old); err != nil {
			return err.Error()
		}
		if old != "" {
			path = old + " -> " + path
		}
		out = append(out, ts+" "+path)
	}
	if err := rows.Err(); err != nil {
		return err.Error()
	}
	return strings.Join(out, "; ")
}

// dump logs every stored alert and the stored events by person and kind,
// to tell a missing event from a rule that did not fire.
func (c *collector) dump(t *testing.T) {
	for _, a := range c.alertsFor(t, "", "") {
		t.Logf("alert %s about %q: %s (evidence %v)", a.Event.Alert.Rule, a.Person, a.Event.Alert.Summary, a.Event.Alert.Evidence)
	}
	var agents []store.Agent
	c.get(t, "/api/agents", &agents)
	for _, a := range agents {
		if hb := a.Heartbeat; hb != nil {
			t.Logf("agent %s (%s): %d events, kernel drops %v, spool depth %d dropped %d, cpu %.0f%%", a.AgentID, a.Site,
				hb.Events, hb.KernelDrops, hb.SpoolDepth, hb.SpoolDropped, hb.CPUPercent)
		}
	}
	var losses []store.Loss
	c.get(t, "/api/loss", &losses)
	for _, l := range losses {
		t.Logf("loss: %+v", l)
	}
	db, err := openStoreRO(c.Data)
	if err != nil {
		return
	}
	defer db.Close()
	rows, err := db.Query(`SELECT person, kind, count(*) FROM events GROUP BY person, kind ORDER BY person, kind`)
	if err != nil {
		t.Logf("reading events: %v", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var p, k string
		var n int
		rows.Scan(&p, &k, &n)
		t.Logf("stored: %d %s events about %q", n, k, p)
	}
}

package e2e

// Broken host rules never switch monitoring off, and distinct customers are
// counted out of the box: the real agent with the packaged agent.hcl,
// enrolled as docs/deploy.md says, publishing to the real collector.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// packagedAgent writes an agent.hcl made from the packaged one, changing
// only what a test host needs (its own state and rules directories, the
// database port, a larger ring, and the site, agent id and collector block
// an operator adds as vigil enrol prints them), and returns its path.
func packagedAgent(t *testing.T, dir, site, host, agentID, rulesDir, natsURL, credsPath string, dbPorts ...int) string {
	t.Helper()
	b, err := os.ReadFile("../../packaging/etc/agent.hcl")
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	set := func(re, repl string) {
		t.Helper()
		r := regexp.MustCompile(re)
		if !r.MatchString(cfg) {
			t.Fatalf("packaged agent.hcl has no line matching %s", re)
		}
		cfg = r.ReplaceAllLiteralString(cfg, repl)
	}
	set(`(?m)^state_dir = .*$`, fmt.Sprintf("state_dir = %q", filepath.Join(dir, "state")))
	set(`(?m)^rules_dir = .*$`, fmt.Sprintf("rules_dir = %q", rulesDir))
	set(`(?m)^site = .*$`, fmt.Sprintf("site = %q", site))
	set(`(?m)^# host = .*$`, fmt.Sprintf("host = %q\nagent_id = %q", host, agentID))
	// The agent sees every other test on the host too: a larger ring keeps
	// their bursts from crowding out the scenario's events.
	set(`(?m)^ring_buffer_mib = .*$`, "ring_buffer_mib = 64")
	if len(dbPorts) > 0 {
		ports := make([]string, len(dbPorts))
		for i, p := range dbPorts {
			ports[i] = fmt.Sprint(p)
		}
		set(`(?m)^  ports = \[5432, 3306\]$`, "  ports = ["+strings.Join(ports, ", ")+"]")
	}
	cfg += fmt.Sprintf("\ncollector {\n  url       = %q\n  creds     = %q\n  heartbeat = \"1s\"\n}\n", natsURL, credsPath)
	path := filepath.Join(dir, "agent.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var (
	cliOnce sync.Once
	cliErr  error
)

// vigilCLI builds the vigil CLI beside the other binaries, once.
func vigilCLI(t *testing.T) string {
	t.Helper()
	dir := binaries(t)
	cliOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", dir+"/", "github.com/vigilhq/vigil/cmd/vigil").CombinedOutput()
		if err != nil {
			cliErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatalf("building vigil: %v", cliErr)
	}
	return filepath.Join(dir, "vigil")
}

// enrolCLI enrols an agent with the vigil CLI on the collector's data
// directory, as docs/deploy.md says, and returns the credentials file and
// the agent id.
func enrolCLI(t *testing.T, data, site, host string) (creds, agentID string) {
	t.Helper()
	creds = filepath.Join(t.TempDir(), host+".creds")
	out, err := exec.Command(vigilCLI(t), "enrol", "--data", data, "--site", site, "--host", host,
		"--out", creds).CombinedOutput()
	if err != nil {
		t.Fatalf("vigil enrol: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`enrolled agent (\S+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("vigil enrol said no agent id:\n%s", out)
	}
	return creds, m[1]
}

// heartbeatOf waits for a heartbeat of agentID (of boot, when not empty)
// that passes ok, and returns it.
func (c *collector) heartbeatOf(t *testing.T, agentID, boot string, ok func(*event.Heartbeat) error) *event.Heartbeat {
	t.Helper()
	var hb *event.Heartbeat
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		var agents []store.Agent
		c.get(t, "/api/agents", &agents)
		for _, a := range agents {
			if a.AgentID != agentID {
				continue
			}
			if a.Heartbeat == nil || (boot != "" && a.BootID != boot) {
				return fmt.Errorf("no heartbeat from agent %s (boot %q) yet", agentID, boot)
			}
			hb = a.Heartbeat
			return ok(hb)
		}
		return fmt.Errorf("agent %s unknown to the collector", agentID)
	})
	return hb
}

// agentAlerts waits for the alerts of rule sent by agentID (of boot, when
// not empty) until one passes ok, and returns that one.
func (c *collector) agentAlert(t *testing.T, rule, agentID, boot string, ok func(*event.Alert) error) *event.Event {
	t.Helper()
	var got *event.Event
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		err := fmt.Errorf("no %s alert from agent %s (boot %q)", rule, agentID, boot)
		for _, a := range c.alertsFor(t, rule, "") {
			ev := a.Event
			if ev.AgentID != agentID || (boot != "" && ev.BootID != boot) {
				continue
			}
			if err = ok(ev.Alert); err == nil {
				got = ev
				return nil
			}
		}
		return err
	})
	return got
}

// bootOf reads the boot id the agent logged at start.
func bootOf(t *testing.T, a *testproc.Agent) string {
	t.Helper()
	m := regexp.MustCompile(`msg="vigil-agent starting".* boot_id=(\S+)`).FindStringSubmatch(a.Log())
	if m == nil {
		t.Fatalf("the agent logged no boot id:\n%s", testproc.Tail(a.Log(), 3000))
	}
	return m[1]
}

const markerRule = `rule "rulesafety_marker" {
  severity    = "low"
  description = "A program the test runs to show the host rules in force."
  when        = kind == "process.exec" && process.comm == "vigil-rs-mark"
}
`

// A person breaks a host rule file while the agent runs: the rejection
// reaches the collector as an alert naming file:line and who wrote it. The
// agent restarted with the file still broken starts, runs the last good
// set (its rules still fire) and says so in its log, its heartbeat and an
// alert. Today the agent only logs the rejection, and then refuses to
// start.
func TestBrokenHostRulesKeepMonitoring(t *testing.T) {
	testkernel.RequireRoot(t)
	requireTools(t, "useradd")
	data := t.TempDir()
	c := startCollector(t, data, testproc.FreePort(t))
	rulesDir := testRules(t, "")
	if err := os.WriteFile(filepath.Join(rulesDir, "zz-marker.hcl"), []byte(markerRule), 0o644); err != nil {
		t.Fatal(err)
	}
	mallory := ensurePerson(t, "vigil-e2e-mallory")
	creds, id := enrolCLI(t, data, "leeds", "ws-rules-01")
	dir := t.TempDir()
	cfg := packagedAgent(t, dir, "leeds", "ws-rules-01", id, rulesDir, c.NATS, creds)
	a := startAgentProcess(t, cfg, 4)
	good := c.heartbeatOf(t, id, "", func(hb *event.Heartbeat) error {
		if hb.RuleSetHash == "" || hb.RuleSetState != "" {
			return fmt.Errorf("heartbeat rule set %q state %q, want the rules on disk", hb.RuleSetHash, hb.RuleSetState)
		}
		return nil
	}).RuleSetHash
	marker := filepath.Join(t.TempDir(), "vigil-rs-mark")
	if out, err := exec.Command("cp", "/bin/true", marker).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// mark runs the marker program and waits for the host rules' alert
	// about this run (its evidence is the run's exec).
	runs := 0
	mark := func() {
		t.Helper()
		runs++
		mallory.run(t, marker)
		testproc.CheckFor(t, 60*time.Second, poll, func() error {
			n := 0
			for _, al := range c.alertsFor(t, "rulesafety_marker", "") {
				if al.Event.AgentID == id {
					n++
				}
			}
			if n < runs {
				return fmt.Errorf("%d rulesafety_marker alerts from agent %s, want %d (one per run of the marker)", n, id, runs)
			}
			return nil
		})
	}
	mark()

	// Mallory appends a rule that reads a field that does not exist: the
	// whole file no longer compiles.
	target := filepath.Join(rulesDir, "dumps.hcl")
	before, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	broken := "\nrule \"quiet\" {\n  severity = \"low\"\n  when     = kind == \"db.query\" && db.rowz > 1\n}\n"
	line := strings.Count(string(before)+broken[:strings.Index(broken, "db.rowz")], "\n") + 1
	mallory.run(t, "/bin/sh", "-c", `printf '%s' "$1" >> "$2"`, "sh", broken, target)
	pos := fmt.Sprintf("dumps.hcl:%d:", line)
	rejected := c.agentAlert(t, "host_rules_rejected", id, bootOf(t, a), func(al *event.Alert) error {
		if !strings.Contains(al.Summary, pos) {
			return fmt.Errorf("host_rules_rejected summary %q does not name %s", al.Summary, pos)
		}
		return nil
	})
	al := rejected.Alert
	if !strings.Contains(al.Summary, short(good)) {
		t.Errorf("summary %q does not name the set in force %s", al.Summary, short(good))
	}
	if al.Group["file"] != target || al.Group["line"] != fmt.Sprint(line) {
		t.Errorf("alert group %v, want file %s line %d", al.Group, target, line)
	}
	if !strings.Contains(al.Group["changed_by"], mallory.name) {
		t.Errorf("alert says the file was changed by %q, want %s (the file sensor saw the write)", al.Group["changed_by"], mallory.name)
	}
	if len(al.Evidence) == 0 {
		t.Errorf("alert cites no evidence, want the write of %s", target)
	}
	// The rules in force are still the good ones.
	mark()

	// Restart with the file still broken: the agent starts with the last
	// good set and says so.
	a.Stop(syscall.SIGTERM, 30*time.Second)
	a = startAgentProcess(t, cfg, 4)
	boot := bootOf(t, a)
	if !strings.Contains(a.Log(), "running the last good host rule set") {
		t.Errorf("the agent did not log that it runs the last good set:\n%s", testproc.Tail(a.Log(), 3000))
	}
	c.heartbeatOf(t, id, boot, func(hb *event.Heartbeat) error {
		if hb.RuleSetHash != good || hb.RuleSetState != "last_good" {
			return fmt.Errorf("heartbeat after restart: rule set %q state %q, want %q last_good", short(hb.RuleSetHash), hb.RuleSetState, short(good))
		}
		return nil
	})
	c.agentAlert(t, "host_rules_rejected", id, boot, func(al *event.Alert) error {
		if !strings.Contains(al.Summary, pos) || !strings.Contains(al.Summary, "last good") {
			return fmt.Errorf("summary %q does not name %s and the last good set", al.Summary, pos)
		}
		return nil
	})
	mark()

	// Repaired, the files on disk run again.
	if err := os.WriteFile(target, before, 0o644); err != nil {
		t.Fatal(err)
	}
	c.heartbeatOf(t, id, boot, func(hb *event.Heartbeat) error {
		if hb.RuleSetHash != good || hb.RuleSetState != "" {
			return fmt.Errorf("heartbeat after the repair: rule set %q state %q, want %q", short(hb.RuleSetHash), hb.RuleSetState, short(good))
		}
		return nil
	})
}

// With no good set ever (the first start, files already broken), the agent
// runs its sensors anyway: events still reach the collector, whose rules
// still judge them, and the agent says loudly that no host rules run.
func TestBrokenHostRulesAtFirstStart(t *testing.T) {
	testkernel.RequireRoot(t)
	data := t.TempDir()
	c := startCollector(t, data, testproc.FreePort(t))
	rulesDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(rulesDir, "local.hcl"), []byte("rule \"x\" {\n  severity = \"low\"\n  when = kind == \"process.exec\" &&\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	creds, id := enrolCLI(t, data, "leeds", "ws-rules-02")
	cfg := packagedAgent(t, t.TempDir(), "leeds", "ws-rules-02", id, rulesDir, c.NATS, creds)
	a := startAgentProcess(t, cfg, 4)
	boot := bootOf(t, a)
	if !strings.Contains(a.Log(), "running with no host rules") {
		t.Errorf("the agent did not say it runs with no host rules:\n%s", testproc.Tail(a.Log(), 3000))
	}
	c.heartbeatOf(t, id, boot, func(hb *event.Heartbeat) error {
		if hb.RuleSetState != "none" || len(hb.Sensors) != 4 {
			return fmt.Errorf("heartbeat: state %q sensors %v, want none and all four", hb.RuleSetState, hb.Sensors)
		}
		return nil
	})
	c.agentAlert(t, "host_rules_rejected", id, boot, func(al *event.Alert) error {
		if !strings.Contains(al.Summary, "local.hcl:3:") || !strings.Contains(al.Summary, "no host rules") {
			return fmt.Errorf("summary %q does not name local.hcl:3 and say no host rules run", al.Summary)
		}
		return nil
	})
	marker := filepath.Join(t.TempDir(), "vigil-rs-first")
	if out, err := exec.Command("cp", "/bin/true", marker).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if out, err := exec.Command(marker).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		if n := storedEvents(t, data, id, event.KindProcessExec, "", "json_extract(body, '$.process.comm') = 'vigil-rs-first'"); n == 0 {
			return fmt.Errorf("the exec of %s did not reach the collector", marker)
		}
		return nil
	})
}

func short(h string) string { return h[:min(12, len(h))] }

// Two agents enrolled as docs/deploy.md says, with the packaged agent.hcl
// and nothing else set, report the same customers read on their host under
// the same hashes: the collector counts each customer once, seen from two
// hosts. Today the packaged config hashes no identifier and each host keys
// its hashes alone, so the collector sees no customer (or each one twice).
func TestEnrolledAgentsCountOneCustomerOnce(t *testing.T) {
	testkernel.RequireRoot(t)
	requireTools(t, "psql", "useradd")
	pg := testdb.StartPostgres(t, testdb.Options{})
	out, err := exec.Command("psql", pg.DSN, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", `
CREATE TABLE customers (id int PRIMARY KEY, name text, email text);
INSERT INTO customers SELECT g, 'Customer ' || g, 'customer' || g || '@example.com' FROM generate_series(1, 1000) g;
CREATE ROLE support_agent LOGIN;
GRANT SELECT ON customers TO support_agent;`).CombinedOutput()
	if err != nil {
		t.Fatalf("loading customers: %v: %s", err, out)
	}
	// The pack as shipped; one customer read from two hosts is already
	// more than this site allows, so each customer seen from both agents
	// raises one alert, grouped by the customer's hash.
	rulesDir := testRules(t, "values {\n  max_hosts_per_customer = 1\n}\n")
	data := t.TempDir()
	c := startCollector(t, data, testproc.FreePort(t), "--rules", rulesDir)
	ivy := ensurePerson(t, "vigil-e2e-ivy")
	type enrolled struct{ id, creds string }
	var agents []enrolled
	for _, host := range []string{"ws-ids-01", "ws-ids-02"} {
		creds, id := enrolCLI(t, data, "leeds", host)
		cfg := packagedAgent(t, t.TempDir(), "leeds", host, id, rulesDir, c.NATS, creds, pg.Port)
		startAgentProcess(t, cfg, 4)
		c.heartbeatOf(t, id, "", func(hb *event.Heartbeat) error {
			if !slices.Contains(hb.Identifiers, "customer_id") || len(hb.IdentifiersMissing) != 0 || len(hb.Sensors) != 4 {
				return fmt.Errorf("heartbeat of %s: identifiers %v, missing %v, sensors %v", host, hb.Identifiers, hb.IdentifiersMissing, hb.Sensors)
			}
			return nil
		})
		agents = append(agents, enrolled{id, creds})
	}
	b, err := os.ReadFile(agents[0].creds)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^deployment_key\s*=\s*"([^"]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("the enrolled credentials carry no deployment key:\n%s", b)
	}
	key := m[1]

	// Ivy opens five customers, by id and by email.
	var lookups []string
	want := map[string]bool{}
	for _, id := range []int{11, 12, 13} {
		lookups = append(lookups, fmt.Sprintf("SELECT id, name, email FROM customers WHERE id = %d;", id))
		want[identifierHash(key, fmt.Sprint(id))] = true
	}
	for _, id := range []int{14, 15} {
		email := fmt.Sprintf("customer%d@example.com", id)
		lookups = append(lookups, fmt.Sprintf("SELECT id, name FROM customers WHERE email = '%s';", email))
		want[identifierHash(key, email)] = true
	}
	ivy.run(t, "psql", pgURL(pg.Port, "support_agent", "disable"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f", writeScript(t, lookups))

	// Each agent reports the five customers under the same hashes.
	for _, a := range agents {
		testproc.CheckFor(t, 60*time.Second, poll, func() error {
			got := storedIdentifiers(t, data, a.id, "customer_id")
			if len(got) != len(want) {
				return fmt.Errorf("agent %s reported customer hashes %v, want the %d of the customers read", a.id, got, len(want))
			}
			for _, h := range got {
				if !want[h] {
					return fmt.Errorf("agent %s reported customer hash %s, not one of the deployment key's", a.id, h)
				}
			}
			return nil
		})
	}
	// The collector counts each customer once, from two hosts.
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		seen := map[string]float64{}
		for _, al := range c.alertsFor(t, "customer_read_from_many_hosts", "") {
			seen[al.Event.Alert.Group["customer"]] = al.Event.Alert.Value
		}
		if len(seen) != len(want) {
			return fmt.Errorf("customers seen from many hosts: %v, want the %d read", seen, len(want))
		}
		for h, v := range seen {
			if !want[h] || v != 2 {
				return fmt.Errorf("customer %s seen from %v hosts; want one of those read, from 2 hosts", h, v)
			}
		}
		return nil
	})
	if al := c.alertsFor(t, "vigil_identifiers_mismatch", ""); len(al) != 0 {
		t.Errorf("agents with the packaged config raised identifier mismatches: %s", al[0].Event.Alert.Summary)
	}
}

// storedIdentifiers lists the distinct hashes under name in agentID's
// stored db.query events.
func storedIdentifiers(t *testing.T, data, agentID, name string) []string {
	t.Helper()
	db, err := openStoreRO(data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT DISTINCT j.value FROM events e, json_each(json_extract(e.body, '$.db.identifiers.' || ?)) j
		WHERE e.agent_id = ? AND e.kind = ?`, name, agentID, string(event.KindDBQuery))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			t.Fatal(err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

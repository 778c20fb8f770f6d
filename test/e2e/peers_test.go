package e2e

// Incident 1's other half: a person who reads far more than the people at
// the same site, under every fixed limit of the pack. The site's history
// (its people's past shifts) comes from a stand-in agent publishing through
// the agent's own publisher, dated in those shifts: the collector learns
// per shift, and a test cannot wait days. Today's reads are real: a person
// with psql on a host watched by the real agent with the packaged
// agent.hcl, judged by the collector's rules as shipped.

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// The site's usual shift: each of its people opens peerCustomers customers
// one at a time and reads peerListRows rows of customer lists.
const (
	peerCustomers = 20
	peerListRows  = 80
	shift         = 8 * time.Hour // the peer rules' window
)

var sitePeers = []string{"peer-ann", "peer-bob", "peer-cat", "peer-dan"}

type peersRig struct {
	c    *collector
	data string
	pg   *testdb.Server
	key  []byte
	real *agentProc
	n    int // customer ids handed out, so no two people share one
	// floors are peer_min_rows and peer_min_customers as shipped.
	floors [2]int
}

func TestPeers(t *testing.T) {
	testkernel.RequireRoot(t)
	requireTools(t, "psql", "useradd")
	pg := testdb.StartPostgres(t, testdb.Options{})
	out, err := exec.Command("psql", pg.DSN, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", `
CREATE TABLE customers (id int PRIMARY KEY, name text, email text);
INSERT INTO customers SELECT g, 'Customer ' || g, 'customer' || g || '@example.com' FROM generate_series(1, 20000) g;
CREATE ROLE support_agent LOGIN;
GRANT SELECT ON customers TO support_agent;`).CombinedOutput()
	if err != nil {
		t.Fatalf("loading customers: %v: %s", err, out)
	}
	rulesDir := testRules(t, "")
	data := t.TempDir()
	c := startCollector(t, data, testproc.FreePort(t), "--rules", rulesDir)
	r := &peersRig{c: c, data: data, pg: pg,
		floors: [2]int{packVariable(t, rulesDir, "peer_min_rows"), packVariable(t, rulesDir, "peer_min_customers")}}
	if f := packVariable(t, rulesDir, "peer_factor"); f != 5 {
		t.Fatalf("the pack's peer_factor is %d: the scenario's reads are five times the peers' and more", f)
	}
	olga, pavel := ensurePerson(t, "vigil-e2e-olga"), ensurePerson(t, "vigil-e2e-pavel")

	// The site's last nine shifts, every other one (shifts that do not
	// touch, so each is its own).
	hist := newStandIn(t, data, c.NATS, "leeds", "ws-leeds-30", event.Process{})
	now := time.Now().UTC()
	for d := 9; d >= 1; d-- {
		start := now.Truncate(shift).Add(-time.Duration(2*d)*shift + time.Hour)
		for i, p := range sitePeers {
			hist.clock = start.Add(time.Duration(i) * time.Minute)
			hist.process = event.Process{PID: 4000 + uint32(i), Comm: "crm", User: p, UID: 1200 + uint32(i), LoginUID: 1200 + uint32(i), LoginUser: p}
			r.shiftOf(t, hist, peerCustomers, peerListRows)
		}
	}

	creds, id := enrolCLI(t, data, "leeds", "ws-leeds-31")
	cfg := packagedAgent(t, t.TempDir(), "leeds", "ws-leeds-31", id, testRules(t, ""), c.NATS, creds, pg.Port)
	r.real = &agentProc{Agent: startAgentProcess(t, cfg, 4), id: id, site: "leeds", host: "ws-leeds-31"}
	c.heartbeatOf(t, id, "", func(hb *event.Heartbeat) error {
		if len(hb.Sensors) != 4 {
			return fmt.Errorf("heartbeat sensors %v", hb.Sensors)
		}
		return nil
	})
	b, err := os.ReadFile(creds)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^deployment_key\s*=\s*"([^"]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("the enrolled credentials carry no deployment key:\n%s", b)
	}
	r.key = m[1]

	t.Run("FarAbovePeers", func(t *testing.T) { r.farAbove(t, olga) })
	t.Run("SpreadOverTwoHosts", func(t *testing.T) { r.twoHosts(t, pavel) })
}

// shiftOf publishes one person's shift through s: customers lookups of
// one row each, then listRows rows of lists.
func (r *peersRig) shiftOf(t *testing.T, s *standIn, customers, listRows int) {
	t.Helper()
	for range customers {
		r.n++
		ev := lookup("client", "10.0.0.5:40000", "10.0.0.9:5432", r.n)
		ev.DB.Statement = "SELECT id, name, email FROM customers WHERE id = ?"
		ev.DB.Identifiers = map[string][]string{"customer_id": {identifierHash(r.keyOr(), fmt.Sprint(r.n))}}
		s.publish(t, ev)
	}
	for listRows > 0 {
		rows := min(listRows, 40)
		listRows -= rows
		ev := lookup("client", "10.0.0.5:40000", "10.0.0.9:5432", 0)
		ev.DB.Statement, ev.DB.Rows, ev.DB.Identifiers = "SELECT id, name, email FROM customers ORDER BY id LIMIT ? OFFSET ?", uint64(rows), nil
		s.publish(t, ev)
	}
}

// keyOr is the deployment key once known; the history's hashes need only
// differ from each other.
func (r *peersRig) keyOr() []byte {
	if r.key == nil {
		return []byte("history-only")
	}
	return r.key
}

// browse has p open the customers from..to one at a time, then read pages
// of 50 rows of the customer list.
func (r *peersRig) browse(t *testing.T, p *person, from, to, pages int) {
	t.Helper()
	var lines []string
	for id := from; id <= to; id++ {
		lines = append(lines, fmt.Sprintf("SELECT id, name, email FROM customers WHERE id = %d;", id))
	}
	for page := range pages {
		lines = append(lines, fmt.Sprintf("SELECT id, name, email FROM customers ORDER BY id LIMIT 50 OFFSET %d;", 10000+page*50))
	}
	p.run(t, "psql", pgURL(r.pg.Port, "support_agent", "disable"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f", writeScript(t, lines))
}

// noAlerts checks, after a barrier, that none of the customer-read rules
// alerted about p.
func (r *peersRig) noAlerts(t *testing.T, p *person, rules ...string) {
	t.Helper()
	ir := &incidentRig{c: r.c, data: r.data, agent: r.real}
	ir.barrier(t, p.name, p.cmd("/bin/true"))
	ir.noAlerts(t, p.name, rules...)
}

var peerRules = []string{"customer_rows_above_peers", "distinct_customers_above_peers"}

var fixedRules = []string{"excessive_customer_rows", "excessive_customer_bytes", "excessive_distinct_customers"}

// checkPeerAlert checks a peer alert names the person, the site and the
// peers' baseline, and cites the person's reads.
func (r *peersRig) checkPeerAlert(t *testing.T, p *person, rule string, baseline int) (*event.Alert, map[string]int) {
	t.Helper()
	a := r.c.awaitAlert(t, rule, p.name)
	al := a.Event.Alert
	t.Logf("%s: %s", rule, al.Summary)
	if al.Group["person"] != p.name || al.Group["site"] != "leeds" || al.Scope != "global" {
		t.Errorf("%s group %v scope %q, want person %s at leeds, global", rule, al.Group, al.Scope, p.name)
	}
	verb := "look up"
	if rule == "customer_rows_above_peers" {
		verb = "read"
	}
	if !strings.Contains(al.Summary, p.name) || !strings.Contains(al.Summary, fmt.Sprintf("usually %s %d in a shift", verb, baseline)) {
		t.Errorf("%s summary %q does not name %s and the peers' %d a shift", rule, al.Summary, p.name, baseline)
	}
	hosts := map[string]int{}
	for _, ev := range evidenceOf(t, a, p.name, []event.Kind{event.KindDBQuery}, event.KindDBQuery)[event.KindDBQuery] {
		if !slices.Contains(ev.DB.Tables, "customers") {
			t.Errorf("evidence %s read %v", ev.ID, ev.DB.Tables)
		}
		hosts[ev.Host]++
	}
	if bar := float64(max(5*baseline, r.floor(rule))); al.Value <= bar {
		t.Errorf("%s value %v, want above %v (five times the peers, and the floor)", rule, al.Value, bar)
	}
	checkReadable(t, a)
	return al, hosts
}

// floor is the pack's floor of a peer rule, as shipped.
func (r *peersRig) floor(rule string) int {
	if rule == "customer_rows_above_peers" {
		return r.floors[0]
	}
	return r.floors[1]
}

// One person opens 150 customers and reads 30 pages of the list: seven
// times the site's customers and sixteen times its rows, yet under every
// fixed limit of the pack.
func (r *peersRig) farAbove(t *testing.T, p *person) {
	r.browse(t, p, 1, 150, 30)
	r.checkPeerAlert(t, p, "distinct_customers_above_peers", peerCustomers)
	r.checkPeerAlert(t, p, "customer_rows_above_peers", peerCustomers+peerListRows)
	r.noAlerts(t, p, fixedRules...)
}

// The same reading split between two hosts of the site, each half under
// what the peers allow: the collector adds the hosts up. The second host
// is a stand-in (one machine cannot run two agents that see apart), its
// hashes made with the deployment key as its agent's would be.
func (r *peersRig) twoHosts(t *testing.T, p *person) {
	r.browse(t, p, 1001, 1075, 16)
	r.noAlerts(t, p, peerRules...)
	uid := 0
	fmt.Sscan(p.uid, &uid)
	other := newStandIn(t, r.data, r.c.NATS, "leeds", "ws-leeds-32",
		event.Process{PID: 5000, Comm: "psql", User: p.name, UID: uint32(uid), LoginUID: uint32(uid), LoginUser: p.name})
	r.n = 1075
	r.shiftOf(t, other, 75, 800)
	for _, rule := range peerRules {
		baseline := peerCustomers
		if rule == "customer_rows_above_peers" {
			baseline += peerListRows
		}
		a, hosts := r.checkPeerAlert(t, p, rule, baseline)
		// The evidence is the latest reads, all on the second host by
		// now; the value shows both hosts' reads were added up.
		if hosts["ws-leeds-32"] == 0 || len(hosts) > 2 {
			t.Errorf("%s evidence by host %v, want the reads on ws-leeds-32 (and ws-leeds-31)", rule, hosts)
		}
		if half := map[string]float64{"customer_rows_above_peers": 75 + 16*50, "distinct_customers_above_peers": 75}[rule]; a.Value <= half {
			t.Errorf("%s value %v: no more than one host's half (%v)", rule, a.Value, half)
		}
	}
	r.noAlerts(t, p, fixedRules...)
}

package e2e

// Incident 1 on MariaDB, as a new site runs it: the packaged agent.hcl,
// enrolled with vigil enrol (whose credentials carry the deployment key),
// the shipped pack and its values. A person browses customers one at a
// time, with the mariadb client and with a Go program whose ids travel as
// bound parameters of prepared statements, until far more distinct
// customers than the role needs have been opened.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// browsed is how many distinct customers each person opens: a working
// shift's worth of browsing for someone looking people up, not a number
// picked from the pack's limit (max_distinct_customers).
const browsed = 260

type myCustomersRig struct {
	c    *collector
	my   *testdb.Server
	key  []byte
	max  int // the pack's max_distinct_customers, as shipped
	goBy string
}

func TestMariaDBDistinctCustomers(t *testing.T) {
	testkernel.RequireRoot(t)
	requireTools(t, "mariadb", "useradd")
	my := testdb.StartMariaDB(t, testdb.Options{})
	var load strings.Builder
	fmt.Fprintf(&load, "CREATE DATABASE shop; USE shop;\n"+
		"CREATE TABLE customers (id int PRIMARY KEY, name varchar(64), email varchar(96), phone varchar(32));\n"+
		"INSERT INTO customers SELECT seq, concat('Customer ', seq), concat('customer', seq, '@example.com'), "+
		"concat('+44 7700 ', lpad(seq, 6, '0')) FROM seq_1_to_5000;\n"+
		"CREATE USER 'support_agent'@'%%' IDENTIFIED BY 'support';\n"+
		"GRANT SELECT ON shop.* TO 'support_agent'@'%%';\n")
	if out, err := exec.Command("mariadb", "--no-defaults", "--socket="+my.Socket, "-uroot", "-e", load.String()).CombinedOutput(); err != nil {
		t.Fatalf("loading MariaDB: %v: %s", err, out)
	}
	rulesDir := testRules(t, "")
	max := packVariable(t, rulesDir, "max_distinct_customers")
	if max >= browsed {
		t.Fatalf("the pack allows %d distinct customers a shift: browsing %d no longer shows anything", max, browsed)
	}
	data := t.TempDir()
	c := startCollector(t, data, testproc.FreePort(t), "--rules", rulesDir)
	mira, nico := ensurePerson(t, "vigil-e2e-mira"), ensurePerson(t, "vigil-e2e-nico")
	goBrowse := buildMyBrowse(t)
	creds, id := enrolCLI(t, data, "leeds", "ws-my-01")
	startAgentProcess(t, packagedAgent(t, t.TempDir(), "leeds", "ws-my-01", id, rulesDir, c.NATS, creds, my.Port), 4)
	c.heartbeatOf(t, id, "", func(hb *event.Heartbeat) error {
		if !slices.Contains(hb.Identifiers, "customer_id") || len(hb.IdentifiersMissing) != 0 || len(hb.Sensors) != 4 {
			return fmt.Errorf("heartbeat: identifiers %v, missing %v, sensors %v", hb.Identifiers, hb.IdentifiersMissing, hb.Sensors)
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
	r := &myCustomersRig{c: c, my: my, key: m[1], max: max, goBy: goBrowse}

	t.Run("MariaDBClient", func(t *testing.T) { r.mariadbClient(t, mira) })
	t.Run("GoPreparedStatements", func(t *testing.T) { r.goClient(t, nico) })
}

// mariadbClient: the first customers opened twice each (a second look
// counts no new customer), the next found by email, the rest by id.
func (r *myCustomersRig) mariadbClient(t *testing.T, p *person) {
	var lookups []string
	byID := func(id int) string {
		return fmt.Sprintf("SELECT id, name, email, phone FROM customers WHERE id = %d;", id)
	}
	for id := 1; id <= 150; id++ {
		lookups = append(lookups, byID(id), byID(id))
	}
	for id := 151; id <= 200; id++ {
		lookups = append(lookups, fmt.Sprintf("SELECT id, name, phone FROM customers WHERE email = 'customer%d@example.com';", id))
	}
	for id := 201; id <= browsed; id++ {
		lookups = append(lookups, byID(id))
	}
	p.run(t, "mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", fmt.Sprint(r.my.Port), "--protocol=tcp",
		"-u", "support_agent", "-psupport", "--skip-ssl", "shop", "-e", "source "+writeScript(t, lookups))
	r.check(t, p, func(n int) string {
		if n > 150 && n <= 200 {
			return fmt.Sprintf("customer%d@example.com", n)
		}
		return fmt.Sprint(n)
	})
}

// goClient: ids, then emails, bound as parameters.
func (r *myCustomersRig) goClient(t *testing.T, p *person) {
	dsn := fmt.Sprintf("support_agent:support@tcp(127.0.0.1:%d)/shop?tls=false", r.my.Port)
	p.run(t, r.goBy, dsn, "id", "1", "150")
	p.run(t, r.goBy, dsn, "email", "151", fmt.Sprint(browsed))
	r.check(t, p, func(n int) string {
		if n > 150 {
			return fmt.Sprintf("customer%d@example.com", n)
		}
		return fmt.Sprint(n)
	})
}

// check waits for p's excessive_distinct_customers alert and checks it
// counted distinct customers under the deployment key's hashes, crossing
// at the right customer (looked up by lookedUp(n) as the nth distinct
// one), and kept no literal on the way.
func (r *myCustomersRig) check(t *testing.T, p *person, lookedUp func(n int) string) {
	t.Helper()
	a := r.c.awaitAlert(t, "excessive_distinct_customers", p.name)
	t.Logf("%s: %s", a.Event.Alert.Rule, a.Event.Alert.Summary)
	if a.Event.Alert.Value != float64(r.max+1) {
		t.Errorf("excessive_distinct_customers value %v, want %d (the first customer past the limit)", a.Event.Alert.Value, r.max+1)
	}
	ev := evidenceOf(t, a, p.name, []event.Kind{event.KindDBQuery}, event.KindDBQuery)[event.KindDBQuery]
	last := ev[len(ev)-1]
	if got, want := last.DB.Identifiers["customer_id"], identifierHash(r.key, lookedUp(r.max+1)); !slices.Equal(got, []string{want}) {
		t.Errorf("the alert's last evidence %s (%q) has customer_id hashes %v, want [%s] (customer %d under the deployment key)",
			last.ID, last.DB.Statement, got, want, r.max+1)
	}
	checkMyEvidence(t, ev)
}

func checkMyEvidence(t *testing.T, ev []*event.Event) {
	t.Helper()
	for _, e := range ev {
		if e.DB.Engine != "mysql" || !slices.Contains(e.DB.Tables, "customers") || e.DB.User != "support_agent" || e.DB.Rows != 1 {
			t.Errorf("evidence %s: engine %q tables %v user %q rows %d", e.ID, e.DB.Engine, e.DB.Tables, e.DB.User, e.DB.Rows)
		}
		if len(e.DB.Identifiers["customer_id"]) != 1 {
			t.Errorf("evidence %s (%q) has identifiers %v, want one customer_id hash", e.ID, e.DB.Statement, e.DB.Identifiers)
		}
		if strings.Contains(e.DB.Statement, "@example.com") || regexp.MustCompile(`= \d`).MatchString(e.DB.Statement) {
			t.Errorf("evidence %s statement %q keeps a literal", e.ID, e.DB.Statement)
		}
	}
}

// packVariable reads a number variable's default from the pack in dir.
func packVariable(t *testing.T, dir, name string) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
	re := regexp.MustCompile(`(?s)variable "` + name + `" \{.*?default\s*=\s*(\d+)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := re.FindSubmatch(b); m != nil {
			var n int
			fmt.Sscan(string(m[1]), &n)
			return n
		}
	}
	t.Fatalf("the pack has no variable %s", name)
	return 0
}

// buildMyBrowse compiles testdata/mybrowse with the module's MySQL driver.
func buildMyBrowse(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mybrowse")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/mybrowse").CombinedOutput(); err != nil {
		t.Fatalf("building mybrowse: %v: %s", err, out)
	}
	return bin
}

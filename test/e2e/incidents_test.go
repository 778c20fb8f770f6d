package e2e

// One scenario per incident in ../shared/INCIDENTS.md, acted out by local
// accounts with real clients against a real PostgreSQL (TLS on: Debian's
// psql prefers it, so the agent must read TLS traffic), watched by the
// real agent with its eBPF sensors, published over the collector's
// embedded NATS, and ending in the expected alerts in the collector's store
// with their evidence. One collector, agent and database serve every
// scenario; each scenario is a different person, so rule groups
// (by person) do not mix.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

const (
	// approvedAddr and unknownAddr are added to lo for the test: not
	// loopback addresses, so transfers to them count as leaving the host,
	// yet nothing leaves this machine.
	approvedAddr = "10.231.8.1"
	unknownAddr  = "10.231.9.1"
	customerRows = 40000
)

// incidentValues sets the pack's variables for this site. Thresholds are
// lowered so that hundreds (not thousands) of lookups cross them; the shift
// rule is relaxed because the suite runs at any hour.
const incidentValues = `values {
  off_shift_queries         = 1000000
  customer_identifier       = "customers.id"
  max_customer_rows         = 250
  max_distinct_customers    = 150
  allowed_destination_cidrs = ["10.231.8.0/24", "127.0.0.0/8", "::1/128"]
}
`

// incidentRules are the rules the incident scenarios are about.
var incidentRules = []string{
	"excessive_customer_rows", "excessive_distinct_customers", "db_dump_tool", "db_copy_out",
	"email_mass_export", "bulk_read_write_upload", "upload_unapproved_destination", "removable_or_cloud_write",
}

type incidentRig struct {
	c     *collector
	data  string
	agent *agentProc
	pg    *testdb.Server
	key   []byte
	sink  *uploadSink
	n     atomic.Int64
	// people are created before the agent starts and removed after it
	// stops: a uid freed and reused mid-run would carry the old name in
	// the agent's user cache.
	people map[string]*person
}

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Skipf(t, "%s is not installed", tool)
		}
	}
}

func TestIncidents(t *testing.T) {
	testkernel.RequireRoot(t)
	requireTools(t, "psql", "pg_dump", "pgbench", "curl", "cp", "ip", "useradd", "setpriv")
	pg := testdb.StartPostgres(t, testdb.Options{TLS: true})
	// The data exists before the agent starts: loading it is not a scenario.
	out, err := exec.Command("psql", pg.DSN, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", fmt.Sprintf(`
CREATE TABLE customers (id int PRIMARY KEY, name text, email text, phone text, address text);
INSERT INTO customers SELECT g, 'Customer ' || g, 'customer' || g || '@example.com',
  '+44 7700 ' || lpad(g::text, 6, '0'), g || ' High Street, Leeds LS1 ' || (g %% 9) || 'AA'
  FROM generate_series(1, %d) g;
CREATE ROLE support_agent LOGIN;
CREATE ROLE svc_shop LOGIN;
CREATE ROLE svc_bench LOGIN;
GRANT SELECT ON customers TO support_agent, svc_shop;
GRANT CREATE ON SCHEMA public TO svc_bench;`, customerRows)).CombinedOutput()
	if err != nil {
		t.Fatalf("loading customers: %v: %s", err, out)
	}

	keyFile, key := deploymentKey(t)
	rulesDir := testRules(t, incidentValues)
	data := t.TempDir()
	natsPort := testproc.FreePort(t)
	c := startCollector(t, data, natsPort, "--rules", rulesDir, "--host-rules", rulesDir)
	r := &incidentRig{c: c, data: data, pg: pg, key: key, people: map[string]*person{}}
	for _, name := range []string{"ana", "raj", "amy", "cody", "una", "svc"} {
		r.people[name] = ensurePerson(t, "vigil-e2e-"+name)
	}
	r.sink = startUploadSink(t, approvedAddr, unknownAddr)
	r.agent = startAgent(t, c, data, c.NATS, agentOpts{site: "leeds", host: "ws-leeds-01", dbPorts: []int{pg.Port},
		rulesDir: rulesDir, keyFile: keyFile, idColumns: []string{"customers.id", "customers.email"}})

	t.Run("Instacart", r.instacart)
	t.Run("RedMart", r.redmart)
	t.Run("Amazon", r.amazon)
	t.Run("CustomerIO", r.customerIO)
	t.Run("CloudSyncWrite", r.cloudSyncWrite)
	t.Run("BenignPgbench", r.benignPgbench)
	t.Run("CollectorNotReported", r.collectorNotReported)
	t.Run("OCSFValidates", r.ocsfValidates)
}

// The collector runs on the agent's host, as make run has it: everything it
// stored during the scenarios was written to its JetStream store and its
// database on this host, and none of it may come back as events (each one
// would be published and written again, a loop).
func (r *incidentRig) collectorNotReported(t *testing.T) {
	pid := r.c.Pid()
	for _, kind := range []event.Kind{event.KindFileWrite, event.KindFileRename, event.KindNetTransfer} {
		cond := fmt.Sprintf("json_extract(body, '$.process.pid') = %d", pid)
		if n := storedEvents(t, r.data, r.agent.id, kind, "", cond); n != 0 {
			t.Errorf("%d %s events from the collector (pid %d) stored: %s", n, kind, pid, storedPaths(t, r.data, r.agent.id, kind, cond))
		}
	}
	if want := fmt.Sprintf("its activity is not reported\" server=127.0.0.1:%s pid=%d", strings.TrimPrefix(r.c.NATS, "nats://127.0.0.1:"), pid); !strings.Contains(r.agent.Log(), want) {
		t.Errorf("the agent did not say it found the collector on this host (%q)", want)
	}
}

func (r *incidentRig) url(role string) string { return pgURL(r.pg.Port, role, "require") }

// barrier runs a marked command as p and waits until its process.exec
// event is stored. The agent handles events in order and publishes alerts
// as the events that raise them pass its rules, so once the barrier is
// stored every alert from p's earlier actions is stored too.
func (r *incidentRig) barrier(t *testing.T, who string, cmd *exec.Cmd) {
	t.Helper()
	marker := fmt.Sprintf("vigil-e2e-barrier-%d", r.n.Add(1))
	cmd.Args = append(cmd.Args, marker)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("barrier: %v: %s", err, out)
	}
	cond := fmt.Sprintf("json_extract(body, '$.process.cmdline') LIKE '%%%s%%'", marker)
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		if storedEvents(t, r.data, r.agent.id, event.KindProcessExec, who, cond) == 0 {
			return fmt.Errorf("barrier %s of %s not stored yet", marker, who)
		}
		return nil
	})
}

// noAlerts fails if any of rules alerted about who (after a barrier).
func (r *incidentRig) noAlerts(t *testing.T, who string, rules ...string) {
	t.Helper()
	for _, a := range r.c.alertsFor(t, "", who) {
		if slices.Contains(rules, a.Event.Alert.Rule) {
			t.Errorf("unexpected %s alert about %s: %s", a.Event.Alert.Rule, who, a.Event.Alert.Summary)
		}
	}
}

// identifierHash is the agent's keyed hash of an identifier value.
func identifierHash(key []byte, v string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(v))))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func writeScript(t *testing.T, lines []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lookups.sql")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Instacart: a support agent looks up customers one at a time, far more
// than the role needs. Looking the same customers up again must not count
// twice: the distinct count runs on the agent's keyed hashes of the ids.
func (r *incidentRig) instacart(t *testing.T) {
	ana := r.people["ana"]
	lookup := func(id int) string {
		return fmt.Sprintf("SELECT id, name, email, phone, address FROM customers WHERE id = %d;", id)
	}
	// Shift start: customers 1..100, each opened twice (200 rows, 100
	// customers): under both limits (250 rows, 150 customers).
	var first []string
	for i := range 200 {
		first = append(first, lookup(i%100+1))
	}
	ana.run(t, "psql", r.url("support_agent"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f", writeScript(t, first))
	clientLookups := "json_extract(body, '$.db.side') = 'client' AND json_extract(body, '$.db.statement') LIKE '%FROM customers WHERE id = ?%'"
	err := testproc.Poll(t.Context(), 60*time.Second, poll, func() error {
		if n := storedEvents(t, r.data, r.agent.id, event.KindDBQuery, ana.name, clientLookups); n < 200 {
			return fmt.Errorf("%d of ana's 200 lookups stored", n)
		}
		return nil
	})
	if err != nil {
		r.c.dump(t)
		t.Fatal(err)
	}
	if n := storedEvents(t, r.data, r.agent.id, event.KindDBQuery, ana.name, clientLookups); n != 200 {
		t.Errorf("%d client-side lookups stored, want 200", n)
	}
	r.barrier(t, ana.name, ana.cmd("/bin/true"))
	r.noAlerts(t, ana.name, "excessive_customer_rows", "excessive_distinct_customers")

	// Then customers 101..160: the 251st row and the 151st distinct
	// customer (id 151) cross the limits.
	var more []string
	for id := 101; id <= 160; id++ {
		more = append(more, lookup(id))
	}
	ana.run(t, "psql", r.url("support_agent"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f", writeScript(t, more))

	rows := r.c.awaitAlert(t, "excessive_customer_rows", ana.name)
	if rows.Event.Alert.Value != 251 {
		t.Errorf("excessive_customer_rows value %v, want 251 (one row per lookup)", rows.Event.Alert.Value)
	}
	for _, ev := range evidenceOf(t, rows, ana.name, []event.Kind{event.KindDBQuery}, event.KindDBQuery)[event.KindDBQuery] {
		if ev.DB.Rows != 1 || !slices.Contains(ev.DB.Tables, "customers") || !ev.DB.TLS || ev.DB.User != "support_agent" {
			t.Errorf("evidence %s: rows %d tables %v tls %v user %q", ev.ID, ev.DB.Rows, ev.DB.Tables, ev.DB.TLS, ev.DB.User)
		}
	}

	distinct := r.c.awaitAlert(t, "excessive_distinct_customers", ana.name)
	if distinct.Event.Alert.Value != 151 {
		t.Errorf("excessive_distinct_customers value %v, want 151", distinct.Event.Alert.Value)
	}
	ev := evidenceOf(t, distinct, ana.name, []event.Kind{event.KindDBQuery}, event.KindDBQuery)[event.KindDBQuery]
	// The alert is raised by the lookup of customer 151, whose id the agent
	// reports only as the deployment's keyed hash.
	last := ev[len(ev)-1]
	want := identifierHash(r.key, "151")
	if got := last.DB.Identifiers["customers.id"]; !slices.Equal(got, []string{want}) {
		t.Errorf("the alert's last evidence %s has customers.id hashes %v, want [%s] (customer 151)", last.ID, got, want)
	}
	for _, e := range ev {
		if len(e.DB.Identifiers["customers.id"]) != 1 {
			t.Errorf("evidence %s has identifiers %v, want one customers.id hash", e.ID, e.DB.Identifiers)
		}
		if strings.Contains(e.DB.Statement, "151") {
			t.Errorf("evidence %s statement %q keeps the literal id", e.ID, e.DB.Statement)
		}
	}
}

// RedMart: a staff member dumps the whole customers table with pg_dump as
// the shop's service account, then sends the dump off the host.
func (r *incidentRig) redmart(t *testing.T) {
	raj := r.people["raj"]
	dump := filepath.Join(raj.home, "shop.sql")
	raj.run(t, "pg_dump", "-d", r.url("svc_shop"), "-t", "customers", "-f", dump)
	fi, err := os.Stat(dump)
	if err != nil {
		t.Fatal(err)
	}
	r.sink.upload(t, raj, unknownAddr, dump)

	tool := r.c.awaitAlert(t, "db_dump_tool", raj.name)
	for _, ev := range evidenceOf(t, tool, raj.name, []event.Kind{event.KindProcessExec}, event.KindProcessExec)[event.KindProcessExec] {
		if ev.Process.Comm != "pg_dump" && !strings.HasSuffix(ev.Process.Exe, "/pg_dump") {
			t.Errorf("db_dump_tool evidence %s is %s (%s)", ev.ID, ev.Process.Comm, ev.Process.Exe)
		}
	}

	copyOut := r.c.awaitAlert(t, "db_copy_out", raj.name)
	for _, ev := range evidenceOf(t, copyOut, raj.name, []event.Kind{event.KindDBQuery}, event.KindDBQuery)[event.KindDBQuery] {
		if ev.DB.Command != "COPY" || ev.DB.User != "svc_shop" || ev.DB.Rows != customerRows || !ev.DB.TLS {
			t.Errorf("db_copy_out evidence %s: command %q user %q rows %d (partial %v) tls %v", ev.ID, ev.DB.Command, ev.DB.User, ev.DB.Rows, ev.DB.Partial, ev.DB.TLS)
		}
	}

	seq := r.c.awaitAlert(t, "bulk_read_write_upload", raj.name)
	by := evidenceOf(t, seq, raj.name, []event.Kind{event.KindDBQuery, event.KindFileWrite, event.KindNetTransfer},
		event.KindDBQuery, event.KindFileWrite, event.KindNetTransfer)
	checkChain(t, by, dump, fi.Size(), unknownAddr)

	up := r.c.awaitAlert(t, "upload_unapproved_destination", raj.name)
	checkUpload(t, evidenceOf(t, up, raj.name, []event.Kind{event.KindNetTransfer}, event.KindNetTransfer), fi.Size(), unknownAddr)

	// The service account was used by a person at a workstation.
	svc := r.c.awaitAlert(t, "service_account_from_workstation", raj.name)
	evidenceOf(t, svc, raj.name, []event.Kind{event.KindDBQuery, event.KindDBSession})
}

// checkChain checks the sequence's evidence: the bulk read, the write of
// file, and an upload of about its size to dst.
func checkChain(t *testing.T, by map[event.Kind][]*event.Event, file string, size int64, dst string) {
	t.Helper()
	for _, ev := range by[event.KindDBQuery] {
		if ev.DB.Rows < 10000 {
			t.Errorf("read step %s returned %d rows", ev.ID, ev.DB.Rows)
		}
	}
	for _, ev := range by[event.KindFileWrite] {
		if ev.File.Path != file || int64(ev.File.Bytes) != size {
			t.Errorf("write step %s: %s, %d bytes; want %s, %d bytes", ev.ID, ev.File.Path, ev.File.Bytes, file, size)
		}
	}
	checkUpload(t, by, size, dst)
}

func checkUpload(t *testing.T, by map[event.Kind][]*event.Event, size int64, dst string) {
	t.Helper()
	for _, ev := range by[event.KindNetTransfer] {
		if ev.Net.DstIP != dst || int64(ev.Net.BytesSent) < size || int64(ev.Net.BytesSent) > size+64<<10 || ev.Net.Loopback {
			t.Errorf("upload %s: %d bytes to %s (loopback %v); want the %d-byte file to %s", ev.ID, ev.Net.BytesSent, ev.Net.DstIP, ev.Net.Loopback, size, dst)
		}
	}
}

// Amazon: email addresses pulled in bulk, then sent to a destination the
// company does not use.
func (r *incidentRig) amazon(t *testing.T) {
	amy := r.people["amy"]
	out := filepath.Join(amy.home, "emails.txt")
	amy.run(t, "psql", r.url("support_agent"), "-X", "-q", "-A", "-t", "-c", "SELECT id, email FROM customers", "-o", out)
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 1<<20 {
		t.Fatalf("emails.txt is %d bytes: too small to count as an upload (min_upload_bytes)", fi.Size())
	}
	r.sink.upload(t, amy, unknownAddr, out)

	export := r.c.awaitAlert(t, "email_mass_export", amy.name)
	for _, ev := range evidenceOf(t, export, amy.name, []event.Kind{event.KindDBQuery}, event.KindDBQuery)[event.KindDBQuery] {
		if ev.DB.Rows != customerRows || !slices.Contains(ev.DB.Columns, "email") || !slices.Contains(ev.DB.Tables, "customers") {
			t.Errorf("email_mass_export evidence %s: rows %d (partial %v) columns %v tables %v", ev.ID, ev.DB.Rows, ev.DB.Partial, ev.DB.Columns, ev.DB.Tables)
		}
	}
	up := r.c.awaitAlert(t, "upload_unapproved_destination", amy.name)
	checkUpload(t, evidenceOf(t, up, amy.name, []event.Kind{event.KindNetTransfer}, event.KindNetTransfer), fi.Size(), unknownAddr)
}

// Customer.io: a client's list exported to a CSV file with psql's \copy,
// then uploaded. The destination is on the company's allow list, so only
// the read-write-upload chain gives it away.
func (r *incidentRig) customerIO(t *testing.T) {
	cody := r.people["cody"]
	csv := filepath.Join(cody.home, "opensea-list.csv")
	cody.run(t, "psql", r.url("support_agent"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
		"-c", fmt.Sprintf(`\copy (SELECT id, name, email FROM customers) TO '%s' CSV HEADER`, csv))
	fi, err := os.Stat(csv)
	if err != nil {
		t.Fatal(err)
	}
	r.sink.upload(t, cody, approvedAddr, csv)

	seq := r.c.awaitAlert(t, "bulk_read_write_upload", cody.name)
	by := evidenceOf(t, seq, cody.name, []event.Kind{event.KindDBQuery, event.KindFileWrite, event.KindNetTransfer},
		event.KindDBQuery, event.KindFileWrite, event.KindNetTransfer)
	checkChain(t, by, csv, fi.Size(), approvedAddr)
	for _, ev := range by[event.KindDBQuery] {
		if ev.DB.Command != "COPY" || ev.DB.Rows != customerRows {
			t.Errorf("read step %s: %s of %d rows, want the COPY of %d", ev.ID, ev.DB.Command, ev.DB.Rows, customerRows)
		}
	}
	r.barrier(t, cody.name, cody.cmd("/bin/true"))
	r.noAlerts(t, cody.name, "upload_unapproved_destination")
}

// A copy to removable media or a cloud-sync folder. This kernel cannot
// make a removable block device (no scsi_debug, null_blk or ublk, and a
// loop device's removable flag is fixed at 0), so the copy goes to a
// Dropbox folder, which the same rule covers.
func (r *incidentRig) cloudSyncWrite(t *testing.T) {
	una := r.people["una"]
	src := filepath.Join(una.home, "customers.csv")
	if err := os.WriteFile(src, make([]byte, 12<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	dropbox := filepath.Join(una.home, "Dropbox")
	if err := os.MkdirAll(dropbox, 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dropbox, "customers.csv")
	una.run(t, "cp", src, dst) // copy_file_range(2), not write(2)

	a := r.c.awaitAlert(t, "removable_or_cloud_write", una.name)
	if a.Event.Alert.Value != 12<<20 {
		t.Errorf("removable_or_cloud_write value %v, want %d", a.Event.Alert.Value, 12<<20)
	}
	for _, ev := range evidenceOf(t, a, una.name, []event.Kind{event.KindFileWrite}, event.KindFileWrite)[event.KindFileWrite] {
		if ev.File.Path != dst || ev.Process.Comm != "cp" {
			t.Errorf("evidence %s: %s wrote %s", ev.ID, ev.Process.Comm, ev.File.Path)
		}
	}
}

// A service account's benchmark (pgbench, run as a daemon would be, with no
// login session) raises none of the incident alerts.
func (r *incidentRig) benignPgbench(t *testing.T) {
	svc := r.people["svc"]
	u, err := user.Lookup(svc.name)
	if err != nil {
		t.Fatal(err)
	}
	asService := func(name string, args ...string) *exec.Cmd {
		c := exec.Command("/bin/sh", append([]string{"-c",
			`uid=$0 gid=$1 && shift && echo 4294967295 > /proc/self/loginuid && exec setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"`,
			u.Uid, u.Gid, name}, args...)...)
		c.Env = append(os.Environ(), "HOME=/", "PGCONNECT_TIMEOUT=10")
		return c
	}
	const txns = 2 * 150
	for _, args := range [][]string{
		{"-i", "-s", "1", "-q"},
		{"-c", "2", "-j", "2", "-t", "150", "-n"},
	} {
		if out, err := asService("pgbench", append(args, r.url("svc_bench"))...).CombinedOutput(); err != nil {
			t.Fatalf("pgbench %v: %v\n%s", args, err, testproc.Tail(string(out), 2000))
		}
	}
	r.barrier(t, svc.name, asService("/bin/true"))
	// The workload was seen: at least one statement per transaction.
	updates := "json_extract(body, '$.db.side') = 'client' AND json_extract(body, '$.db.statement') LIKE 'UPDATE pgbench_accounts%'"
	if n := storedEvents(t, r.data, r.agent.id, event.KindDBQuery, svc.name, updates); n < txns {
		t.Fatalf("%d pgbench_accounts updates stored for %s, want %d: the agent did not see the workload", n, svc.name, txns)
	}
	r.noAlerts(t, svc.name, incidentRules...)
	for _, a := range r.c.alertsFor(t, "", svc.name) {
		t.Logf("alert about the service account: %s: %s", a.Event.Alert.Rule, a.Event.Alert.Summary)
	}
}

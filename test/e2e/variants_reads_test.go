package e2e

// The ways around the customer-read rules that change how a read is
// written, not what it reads: another spelling of the table's name, a view
// over it, a cursor, a whole table folded into one row, SELECT * where the
// statement never names the email column. Each variant is acted out with
// the real psql and mariadb clients against a real PostgreSQL (TLS) and a
// real MariaDB, watched by the real agent with the shipped pack at its
// defaults, and judged by the alerts in the collector's store. One rig
// serves every variant; each is a different person, so rule groups (by
// person) do not mix, and the variants run in parallel.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// readsTableRows is the size of each customers table: a shop's, not a
// number chosen to cross a threshold.
const readsTableRows = 40000

// readsValues keeps the pack's defaults for every rule these variants are
// about; only the off-shift rule is relaxed (the suite runs at any hour).
const readsValues = `values {
  off_shift_queries = 1000000
}
`

const pgReadsSchema = `
CREATE TABLE customers (id int PRIMARY KEY, name text, email text, phone text, address text);
INSERT INTO customers SELECT g, 'Customer ' || g, 'customer' || g || '@example.com',
  '+44 7700 ' || lpad(g::text, 6, '0'), g || ' High Street, Leeds LS1 ' || (g %% 9) || 'AA'
  FROM generate_series(1, %[1]d) g;
CREATE TABLE products (id int PRIMARY KEY, name text, price numeric);
INSERT INTO products SELECT g, 'Product ' || g, g %% 100 FROM generate_series(1, %[1]d) g;
CREATE SCHEMA crm;
CREATE TABLE crm."Customers" AS SELECT * FROM customers;
CREATE VIEW customer_directory AS SELECT id, name, email FROM customers;
CREATE ROLE support_agent LOGIN;
GRANT USAGE ON SCHEMA crm TO support_agent;
GRANT SELECT ON ALL TABLES IN SCHEMA public, crm TO support_agent;`

const myReadsSchema = `
USE vigil;
CREATE TABLE customers (id int PRIMARY KEY, name varchar(64), email varchar(128), phone varchar(32), address varchar(128));
INSERT INTO customers SELECT seq, CONCAT('Customer ', seq), CONCAT('customer', seq, '@example.com'),
  CONCAT('+44 7700 ', LPAD(seq, 6, '0')), CONCAT(seq, ' High Street, Leeds LS1 ', seq %% 9, 'AA') FROM seq_1_to_%[1]d;
CREATE TABLE products (id int PRIMARY KEY, name varchar(64), price decimal(10, 2));
INSERT INTO products SELECT seq, CONCAT('Product ', seq), seq %% 100 FROM seq_1_to_%[1]d;
CREATE VIEW customer_directory AS SELECT id, name, email FROM customers;
CREATE USER 'support_agent'@'%%' IDENTIFIED BY 'support-pw';
GRANT SELECT ON vigil.* TO 'support_agent'@'%%';`

type readsRig struct {
	// cursorClient is testdata/mysql_cursor.c built: a libmariadb
	// application reading through a prepared statement's cursor.
	cursorClient string
	c            *collector
	data         string
	agent        *agentProc
	pg, my       *testdb.Server
	sink         *uploadSink
	people       map[string]*person
}

// readVariant is one way of reading customers, by its own person.
type readVariant struct {
	name string
	// act reads as p.
	act func(t *testing.T, r *readsRig, p *person)
	// rule must alert about p; check judges each db.query of its evidence.
	rule  string
	check func(ev *event.Event) error
	// quiet lists rules that must not alert about p (after a barrier).
	quiet []string
}

func TestReadVariants(t *testing.T) {
	testkernel.RequireRoot(t)
	requireTools(t, "psql", "pgbench", "mariadb", "curl", "ip", "useradd", "sh")
	pg := testdb.StartPostgres(t, testdb.Options{TLS: true})
	my := testdb.StartMariaDB(t, testdb.Options{})
	// The data exists before the agent starts: loading it is not a variant.
	if out, err := exec.Command("psql", pg.DSN, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
		fmt.Sprintf(pgReadsSchema, readsTableRows)).CombinedOutput(); err != nil {
		t.Fatalf("loading PostgreSQL: %v: %s", err, out)
	}
	if out, err := exec.Command("mariadb", "--no-defaults", "--socket="+my.Socket, "-uroot", "-e",
		fmt.Sprintf(myReadsSchema, readsTableRows)).CombinedOutput(); err != nil {
		t.Fatalf("loading MariaDB: %v: %s", err, out)
	}

	cursorClient := buildCursorClient(t)
	variants := append(pgReadVariants(), myReadVariants()...)
	keyFile, _ := deploymentKey(t)
	rulesDir := testRules(t, readsValues)
	data := t.TempDir()
	c := startCollector(t, data, testproc.FreePort(t), "--rules", rulesDir, "--host-rules", rulesDir)
	r := &readsRig{c: c, data: data, pg: pg, my: my, people: map[string]*person{}, cursorClient: cursorClient}
	for _, v := range variants {
		r.people[v.name] = ensurePerson(t, "vigil-e2e-"+v.name)
	}
	r.sink = startUploadSink(t, approvedAddr, unknownAddr)
	r.agent = startAgent(t, c, data, c.NATS, agentOpts{site: "leeds", host: "ws-leeds-02", dbPorts: []int{pg.Port, my.Port},
		rulesDir: rulesDir, keyFile: keyFile, idColumns: []string{"customers.id"},
		dbExtra: []string{`views = { customer_directory = ["customers"] }`}})

	t.Run("variants", func(t *testing.T) {
		for _, v := range variants {
			t.Run(v.name, func(t *testing.T) {
				t.Parallel()
				p := r.people[v.name]
				v.act(t, r, p)
				if v.rule != "" {
					a := r.c.awaitAlert(t, v.rule, p.name)
					for _, ev := range evidenceOf(t, a, p.name, []event.Kind{event.KindDBQuery, event.KindFileWrite, event.KindNetTransfer}, event.KindDBQuery)[event.KindDBQuery] {
						if err := v.check(ev); err != nil {
							t.Errorf("%s evidence %s (%q, rows %d, bytes %d, tables %v): %v", v.rule, ev.ID, ev.DB.Statement, ev.DB.Rows, ev.DB.Bytes, ev.DB.Tables, err)
						}
					}
				}
				if len(v.quiet) > 0 {
					r.barrier(t, p, p.cmd("/bin/true"))
					for _, a := range r.c.alertsFor(t, "", p.name) {
						if slices.Contains(v.quiet, a.Event.Alert.Rule) {
							t.Errorf("unexpected %s alert about %s: %s", a.Event.Alert.Rule, p.name, a.Event.Alert.Summary)
						}
					}
				}
			})
		}
	})
}

// buildCursorClient compiles testdata/mysql_cursor.c against libmariadb.
func buildCursorClient(t *testing.T) string {
	t.Helper()
	requireTools(t, "mariadb_config")
	compiler := ""
	for _, c := range []string{"cc", "clang", "gcc"} {
		if _, err := exec.LookPath(c); err == nil {
			compiler = c
			break
		}
	}
	if compiler == "" {
		testenv.Skipf(t, "no C compiler (cc, clang or gcc) to build the cursor client")
	}
	flags, err := exec.Command("mariadb_config", "--cflags", "--libs").Output()
	if err != nil {
		testenv.Skipf(t, "mariadb_config (libmariadb-dev): %v", err)
	}
	bin := filepath.Join(t.TempDir(), "mysql-cursor")
	args := append([]string{"-o", bin, "testdata/mysql_cursor.c"}, strings.Fields(string(flags))...)
	if out, err := exec.Command(compiler, args...).CombinedOutput(); err != nil {
		t.Fatalf("building the cursor client: %v: %s", err, out)
	}
	return bin
}

// readsCustomers checks that the evidence read the customers table, under
// whatever name it was written.
func readsCustomers(ev *event.Event) error {
	if !slices.Contains(ev.DB.Tables, "customers") {
		return fmt.Errorf("tables %v do not name customers", ev.DB.Tables)
	}
	return nil
}

// fetchesCustomers checks that the evidence is rows fetched from a cursor
// over the customers table.
func fetchesCustomers(ev *event.Event) error {
	if ev.DB.Command != "FETCH" && ev.DB.Command != "HANDLER" {
		return fmt.Errorf("command %q, want the cursor's FETCH (or HANDLER READ)", ev.DB.Command)
	}
	return readsCustomers(ev)
}

// manyEmails checks the evidence returned email addresses in bulk: many
// rows, or one row holding them all.
func manyEmails(ev *event.Event) error {
	if ev.DB.Rows < 1000 && ev.DB.Bytes < 512<<10 {
		return fmt.Errorf("%d rows, %d bytes: not a bulk read", ev.DB.Rows, ev.DB.Bytes)
	}
	return readsCustomers(ev)
}

// barrier is incidentRig.barrier for this rig.
func (r *readsRig) barrier(t *testing.T, p *person, cmd *exec.Cmd) {
	t.Helper()
	(&incidentRig{c: r.c, data: r.data, agent: r.agent}).barrier(t, p.name, cmd)
}

func (r *readsRig) psql(t *testing.T, p *person, args ...string) {
	t.Helper()
	p.run(t, "psql", append([]string{pgURL(r.pg.Port, "support_agent", "require"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null"}, args...)...)
}

func (r *readsRig) mariadbArgs() []string {
	return []string{"--no-defaults", "-h", "127.0.0.1", "-P", strconv.Itoa(r.my.Port), "-u", "support_agent", "-psupport-pw", "vigil"}
}

func (r *readsRig) mariadb(t *testing.T, p *person, sql string) {
	t.Helper()
	p.run(t, "mariadb", append(r.mariadbArgs(), "-e", sql)...)
}

// exportAndUpload runs the client argv as p writing its output to file, then
// uploads the file to an approved destination: only the read-write-upload
// chain gives it away.
func (r *readsRig) exportAndUpload(t *testing.T, p *person, file string, argv ...string) {
	t.Helper()
	p.run(t, "sh", append([]string{"-c", `out=$0; "$@" > "$out"`, file}, argv...)...)
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 1<<20 {
		t.Fatalf("%s is %d bytes: too small to count as an upload (min_upload_bytes)", file, fi.Size())
	}
	r.sink.upload(t, p, approvedAddr, file)
}

func pgReadVariants() []readVariant {
	return []readVariant{
		{name: "rpg-schema", rule: "excessive_customer_rows", check: readsCustomers,
			act: func(t *testing.T, r *readsRig, p *person) {
				r.psql(t, p, "-c", "SELECT id, name, phone, address FROM public.customers")
			}},
		{name: "rpg-case", rule: "excessive_customer_rows", check: readsCustomers,
			act: func(t *testing.T, r *readsRig, p *person) {
				r.psql(t, p, "-c", `SELECT id, name, phone, address FROM crm."Customers"`)
			}},
		{name: "rpg-view", rule: "excessive_customer_rows", check: readsCustomers,
			act: func(t *testing.T, r *readsRig, p *person) {
				r.psql(t, p, "-c", "SELECT id, name FROM customer_directory")
			}},
		// psql's FETCH_COUNT reads every query through a cursor, 100 rows
		// a FETCH.
		{name: "rpg-fetchcount", rule: "excessive_customer_rows", check: fetchesCustomers,
			act: func(t *testing.T, r *readsRig, p *person) {
				r.psql(t, p, "-v", "FETCH_COUNT=100", "-c", "SELECT id, name, phone, address FROM customers")
			}},
		{name: "rpg-declare", rule: "email_mass_export", check: fetchesCustomers,
			act: func(t *testing.T, r *readsRig, p *person) {
				r.psql(t, p, "-c", "BEGIN", "-c", "DECLARE everyone NO SCROLL CURSOR FOR SELECT * FROM customers",
					"-c", "FETCH ALL FROM everyone", "-c", "COMMIT")
			}},
		{name: "rpg-star", rule: "email_mass_export", check: manyEmails,
			act: func(t *testing.T, r *readsRig, p *person) {
				r.psql(t, p, "-c", "SELECT * FROM customers")
			}},
		// The extended protocol (pgbench, JDBC, pgx) describes the result
		// before it runs: no RowDescription comes with the rows.
		{name: "rpg-extended", rule: "email_mass_export", check: manyEmails,
			act: func(t *testing.T, r *readsRig, p *person) {
				script := filepath.Join(p.home, "star.sql")
				if err := os.WriteFile(script, []byte("SELECT * FROM customers;\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				p.run(t, "pgbench", "-n", "-t", "1", "-M", "extended", "-f", script, pgURL(r.pg.Port, "support_agent", "require"))
			}},
		{name: "rpg-stringagg", rule: "email_mass_export", check: manyEmails,
			act: func(t *testing.T, r *readsRig, p *person) {
				r.psql(t, p, "-c", "SELECT string_agg(email, ',') FROM customers")
			}},
		{name: "rpg-jsonagg", rule: "bulk_read_write_upload", check: readsCustomers,
			act: func(t *testing.T, r *readsRig, p *person) {
				r.exportAndUpload(t, p, filepath.Join(p.home, "customers.json"), "psql",
					pgURL(r.pg.Port, "support_agent", "require"), "-X", "-q", "-A", "-t", "-c", "SELECT json_agg(c) FROM customers c")
			}},
		// The same reads of another table, and one customer's record, are
		// not customer reads in bulk.
		{name: "rpg-benign", quiet: []string{"excessive_customer_rows", "email_mass_export", "bulk_read_write_upload"},
			act: func(t *testing.T, r *readsRig, p *person) {
				r.psql(t, p, "-v", "FETCH_COUNT=100", "-c", "SELECT * FROM public.products")
				r.psql(t, p, "-c", "SELECT json_agg(p) FROM products p", "-c", `SELECT * FROM crm."Customers" WHERE id = 7`,
					"-c", "SELECT json_agg(c) FROM customers c WHERE id = 8")
			}},
	}
}

func myReadVariants() []readVariant {
	const jsonAgg = "SET SESSION group_concat_max_len = 67108864; SELECT JSON_ARRAYAGG(JSON_OBJECT('id', id, 'name', name, " +
		"'email', email, 'phone', phone, 'address', address)) FROM customers"
	return []readVariant{
		{name: "rmy-schema", rule: "excessive_customer_rows", check: readsCustomers,
			act: func(t *testing.T, r *readsRig, p *person) {
				r.mariadb(t, p, "SELECT id, name, phone, address FROM vigil.customers")
			}},
		{name: "rmy-quoted", rule: "excessive_customer_rows", check: readsCustomers,
			act: func(t *testing.T, r *readsRig, p *person) {
				r.mariadb(t, p, "SELECT id, name, phone, address FROM `vigil`.`customers`")
			}},
		{name: "rmy-view", rule: "excessive_customer_rows", check: readsCustomers,
			act: func(t *testing.T, r *readsRig, p *person) {
				r.mariadb(t, p, "SELECT id, name FROM customer_directory")
			}},
		// HANDLER reads a table row by row, like a cursor.
		{name: "rmy-handler", rule: "excessive_customer_rows", check: fetchesCustomers,
			act: func(t *testing.T, r *readsRig, p *person) {
				r.mariadb(t, p, "HANDLER customers OPEN AS h; HANDLER h READ `PRIMARY` FIRST; "+
					"HANDLER h READ `PRIMARY` NEXT LIMIT 10000; HANDLER h READ `PRIMARY` NEXT LIMIT 10000; HANDLER h CLOSE")
			}},
		// A prepared statement read through its cursor: the rows come
		// with COM_STMT_FETCH, 100 at a time, naming only the statement id.
		{name: "rmy-stmtcursor", rule: "excessive_customer_rows", check: readsCustomers,
			act: func(t *testing.T, r *readsRig, p *person) {
				p.run(t, r.cursorClient, "127.0.0.1", strconv.Itoa(r.my.Port), "support_agent", "support-pw", "vigil",
					"SELECT id, name, phone, address FROM customers")
			}},
		{name: "rmy-star", rule: "email_mass_export", check: manyEmails,
			act: func(t *testing.T, r *readsRig, p *person) {
				r.mariadb(t, p, "SELECT * FROM customers")
			}},
		{name: "rmy-groupconcat", rule: "email_mass_export", check: manyEmails,
			act: func(t *testing.T, r *readsRig, p *person) {
				r.mariadb(t, p, "SET SESSION group_concat_max_len = 67108864; SELECT GROUP_CONCAT(email) FROM customers")
			}},
		{name: "rmy-jsonagg", rule: "bulk_read_write_upload", check: readsCustomers,
			act: func(t *testing.T, r *readsRig, p *person) {
				r.exportAndUpload(t, p, filepath.Join(p.home, "customers.json"),
					append(append([]string{"mariadb"}, r.mariadbArgs()...), "-N", "-B", "-r", "-e", jsonAgg)...)
			}},
		{name: "rmy-benign", quiet: []string{"excessive_customer_rows", "email_mass_export", "bulk_read_write_upload"},
			act: func(t *testing.T, r *readsRig, p *person) {
				r.mariadb(t, p, "SELECT * FROM vigil.products; HANDLER products OPEN; HANDLER products READ `PRIMARY` NEXT LIMIT 10000; "+
					"HANDLER products CLOSE; SELECT * FROM `vigil`.`customers` WHERE id = 7")
			}},
	}
}

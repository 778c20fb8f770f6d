package e2e

// Dumps by what the queries do rather than by the name of the program that
// sends them, on PostgreSQL and MariaDB, and the service accounts whose
// nightly jobs must not be judged as people (the rig is in
// variants_exfil_test.go).

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testproc"
)

// nightlyService is a service account as the pack's service_users patterns
// name them by default.
const nightlyService = "svc_e2e_nightly"

func TestDumpVariants(t *testing.T) {
	requireTools(t, "pgbench", "cp")
	r := startVariantRig(t, []string{"vd-pgdump", "vd-mydump", "vd-outfile", "vd-sweep", "vd-night", "vd-daemon", nightlyService}, true)
	t.Run("RenamedPgDump", r.renamedPgDump)
	t.Run("RenamedMysqldump", r.renamedMysqldump)
	t.Run("IntoOutfile", r.intoOutfile)
	t.Run("TableSweep", r.tableSweep)
	t.Run("NightQueries", r.nightQueries)
	t.Run("BenignNightlyPgbench", r.benignNightlyPgbench)
}

// copyTool copies a program under another name into p's home, as someone
// would to get past a rule about the program's name.
func copyTool(t *testing.T, p *person, src, name string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(p.home, "bin", name)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// checkDump checks a db_table_dump alert: its evidence are p's queries,
// among them the read of the whole customers table.
func checkDump(t *testing.T, r *variantRig, p *person, command string) {
	t.Helper()
	a := r.expect(t, p, "db_table_dump")
	whole := false
	for _, ev := range evidenceOf(t, a, p.name, []event.Kind{event.KindDBQuery}, event.KindDBQuery)[event.KindDBQuery] {
		if ev.DB.Command == command && ev.DB.Rows == customerRows && slices.ContainsFunc(ev.DB.Tables, func(s string) bool { return strings.HasSuffix(s, "customers") }) {
			whole = true
		}
	}
	if !whole {
		t.Errorf("no %s of all %d customers among the db_table_dump evidence %v", command, customerRows, a.Event.Alert.Evidence)
	}
	checkReadable(t, a)
}

// pg_dump under another name: its COPY of a whole table is a dump whatever
// the program is called.
func (r *variantRig) renamedPgDump(t *testing.T) {
	p := r.people["vd-pgdump"]
	real, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	if len(real) == 0 {
		testenv.Skipf(t, "no pg_dump under /usr/lib/postgresql")
	}
	tool := copyTool(t, p, real[len(real)-1], "snapshot")
	p.run(t, tool, "-d", r.pgURL(), "-t", "customers", "-f", filepath.Join(p.home, "snap.sql"))
	checkDump(t, r, p, "COPY")
}

// mysqldump (mariadb-dump) under another name dumps every table of the
// shop database with SELECT * FROM each.
func (r *variantRig) renamedMysqldump(t *testing.T) {
	p := r.people["vd-mydump"]
	src, err := exec.LookPath("mariadb-dump")
	if err != nil {
		testenv.Skipf(t, "mariadb-dump is not installed")
	}
	tool := copyTool(t, p, src, "exporter")
	p.run(t, tool, append(r.myArgs()[:len(r.myArgs())-1], "--result-file="+filepath.Join(p.home, "shop.sql"), "shop")...)
	checkDump(t, r, p, "SELECT")
	a := r.expect(t, p, "db_many_tables_dumped")
	if a.Event.Alert.Value <= 5 {
		t.Errorf("db_many_tables_dumped value %v, want the tables of the shop database", a.Event.Alert.Value)
	}
	checkReadable(t, a)
}

// MariaDB writes the table to a file on the server itself: the client
// gets no rows, only the count.
func (r *variantRig) intoOutfile(t *testing.T) {
	p := r.people["vd-outfile"]
	out := filepath.Join(r.outfileDir, "customers.csv")
	p.run(t, "mariadb", append(r.myArgs(), "-e",
		fmt.Sprintf("SELECT %s FROM customers INTO OUTFILE '%s' FIELDS TERMINATED BY ','", allColumns, out))...)
	if fi, err := os.Stat(out); err != nil || fi.Size() < 1<<20 {
		t.Fatalf("the server wrote no export: %v", err)
	}
	checkDump(t, r, p, "SELECT")
}

// Every table read whole, one small table after another: no single read is
// large, the sweep is the dump.
func (r *variantRig) tableSweep(t *testing.T) {
	p := r.people["vd-sweep"]
	var lines []string
	for _, tbl := range lookupTables {
		lines = append(lines, fmt.Sprintf("SELECT * FROM %s;", tbl))
	}
	p.run(t, "psql", r.pgURL(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f", writeScript(t, lines))
	a := r.expect(t, p, "db_many_tables_dumped")
	if a.Event.Alert.Value <= 5 || int(a.Event.Alert.Value) > len(lookupTables) {
		t.Errorf("db_many_tables_dumped value %v, want more than 5 of the %d tables", a.Event.Alert.Value, len(lookupTables))
	}
	checkReadable(t, a)
}

// offShiftSummary is how the shift rule says when: a weekday and a time
// of day, as people write them.
var offShiftSummary = regexp.MustCompile(`\((Mon|Tue|Wed|Thu|Fri|Sat|Sun) [0-2][0-9]:[0-5][0-9] UTC\)`)

// A person at the keyboard at night is flagged, and the alert says when in
// words a person reads.
func (r *variantRig) nightQueries(t *testing.T) {
	p := r.people["vd-night"]
	var lines []string
	for i := range 25 {
		lines = append(lines, fmt.Sprintf("SELECT name FROM customers WHERE id = %d;", i+1))
	}
	p.run(t, "psql", r.pgURL(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f", writeScript(t, lines))
	a := r.expect(t, p, "db_access_outside_shift")
	if !offShiftSummary.MatchString(a.Event.Alert.Summary) {
		t.Errorf("summary %q does not say the day and time as HH:MM", a.Event.Alert.Summary)
	}
	checkReadable(t, a)
}

// A nightly benchmark by service accounts: one started by cron (which
// gives its jobs the account's own login uid), one by a daemon (no login
// uid at all). Neither is a person at the keyboard at night.
func (r *variantRig) benignNightlyPgbench(t *testing.T) {
	for _, tc := range []struct {
		who      string
		loginuid func(uid string) string
	}{
		{nightlyService, func(uid string) string { return uid }},
		{"vigil-e2e-vd-daemon", func(string) string { return "4294967295" }},
	} {
		u, err := user.Lookup(tc.who)
		if err != nil {
			t.Fatal(err)
		}
		asService := func(name string, args ...string) *exec.Cmd {
			c := exec.Command("/bin/sh", append([]string{"-c",
				`uid=$0 gid=$1 login=$2 && shift 2 && echo "$login" > /proc/self/loginuid && exec setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"`,
				u.Uid, u.Gid, tc.loginuid(u.Uid), name}, args...)...)
			c.Env = append(os.Environ(), "HOME=/", "PGCONNECT_TIMEOUT=10")
			return c
		}
		url := pgURL(r.pg.Port, "svc_bench", "require")
		for _, args := range [][]string{{"-i", "-s", "1", "-q"}, {"-c", "2", "-j", "2", "-t", "150", "-n"}} {
			if out, err := asService("pgbench", append(args, url)...).CombinedOutput(); err != nil {
				t.Fatalf("pgbench %v as %s: %v\n%s", args, tc.who, err, testproc.Tail(string(out), 2000))
			}
		}
		r.barrier(t, tc.who, asService("/bin/true"))
		updates := "json_extract(body, '$.db.side') = 'client' AND json_extract(body, '$.db.statement') LIKE 'UPDATE pgbench_accounts%'"
		if n := storedEvents(t, r.data, r.agent.id, event.KindDBQuery, tc.who, updates); n < 300 {
			t.Fatalf("%d pgbench_accounts updates stored for %s, want 300: the agent did not see the job", n, tc.who)
		}
		for _, a := range r.c.alertsFor(t, "", tc.who) {
			t.Errorf("%s alert about the service account %s: %s", a.Event.Alert.Rule, tc.who, a.Event.Alert.Summary)
		}
	}
}

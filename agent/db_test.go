package agent_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/agent/dbconn"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/agent/sensor/process"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/rules"
)

// runDBAgent starts a real agent with the database sensor watching port.
func runDBAgent(t *testing.T, port int, captureBytes ...uint32) chanSink {
	t.Helper()
	var capture uint32
	if len(captureBytes) > 0 {
		capture = captureBytes[0]
	}
	return startDBAgent(t, port, capture, 0)
}

// startDBAgent is runDBAgent with a capture size (0: the default) and a
// statement fold window (0: every run reported).
func startDBAgent(t *testing.T, port int, capture uint32, fold time.Duration) chanSink {
	t.Helper()
	testkernel.RequireRoot(t)
	red, err := redact.New(redact.Config{Key: []byte("test-deployment-key"), IdentifierColumns: []string{"customers.email"}})
	if err != nil {
		t.Fatal(err)
	}
	set, diags := rules.LoadDir("../rules/packs")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sink := make(chanSink, 1<<16)
	ports := []uint16{uint16(port)}
	dbs := db.New(db.Config{Ports: ports, CaptureBytes: capture})
	startAgent(t, agent.Options{
		Sensors: []sensor.Sensor{process.New(), dbs},
		Sink:    sink,
		DB:      dbconn.Options{Ports: ports, Redactor: red, Mute: dbs.Mute, FoldWindow: fold},
		Rules:   rules.NewEngine(set, rules.Options{Scope: rules.ScopeHost}),
	})
	return sink
}

const marker = "MARKER-7f3a9@example.com"

func pgScenario(t *testing.T, tls bool) {
	srv := testdb.StartPostgres(t, testdb.Options{TLS: tls})
	sink := runDBAgent(t, srv.Port)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"CREATE TABLE customers (id int primary key, email text)",
		"INSERT INTO customers SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 1234) g",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// The client is psql (libpq over OpenSSL when TLS is on), a process of
	// its own: the agent ignores its own pid, and this test is the agent.
	psql(t, srv, "SELECT id, email FROM customers WHERE email <> '"+marker+"'")
	if out, err := psqlOut(srv, "SELECT * FROM no_such_table"); err == nil {
		t.Fatalf("want an error, got %s", out)
	}

	// Read on until everything expected has arrived, in whatever order the
	// probes delivered it: the client's SELECT, its alert, the client's
	// failed query (psql's second connection, after the first closed), and
	// the server end's report of the test's own pgx statements (the agent
	// ignores its own pid, so their client end is not followed and the
	// server end stays).
	var events []*event.Event
	seen := map[string]*event.Event{} // side -> SELECT of customers
	var alert, fail, serverCreate *event.Event
	await(t, sink, "client SELECT, its alert, the failed query and the server side of pgx's CREATE", func(ev *event.Event) bool {
		events = append(events, ev)
		switch {
		case ev.Kind == event.KindDBQuery && ev.DB.Command == "SELECT" && strings.Contains(ev.DB.Statement, "FROM customers"):
			seen[ev.DB.Side] = ev
		case ev.Kind == event.KindDBQuery && ev.DB.Side == "server" && strings.Contains(ev.DB.Statement, "CREATE TABLE customers"):
			serverCreate = ev
		case ev.Kind == event.KindAlert && ev.Alert.Rule == "email_mass_export":
			// The default pack's email_mass_export rule fires on the
			// 1,234 emails, citing the query as evidence.
			alert = ev
		case ev.Kind == event.KindDBQuery && ev.DB.ErrorCode != "" && ev.DB.Side == "client":
			fail = ev
		}
		return seen["client"] != nil && alert != nil && fail != nil && serverCreate != nil
	})
	if sel := seen["client"]; sel.DB.Rows != 1234 || sel.DB.TLS != tls || sel.DB.Engine != "postgresql" || sel.DB.User != srv.User {
		t.Errorf("client side select = %+v", sel.DB)
	}
	if c := seen["client"]; c.Process.Comm != "psql" {
		t.Errorf("client process = %+v, want psql", c.Process)
	}
	// psql's connection is local and read from its client end: the server
	// end is muted, so the statement is reported once.
	if s := seen["server"]; s != nil {
		t.Errorf("the server end of psql's local connection reported %+v; want it left to the client end", s.DB)
	}
	if serverCreate.Process.Comm != "postgres" || serverCreate.DB.TLS != tls || serverCreate.DB.User != srv.User {
		t.Errorf("server side create = %+v by %+v", serverCreate.DB, serverCreate.Process)
	}
	if !slices.Contains(alert.Alert.Evidence, seen["client"].ID) {
		t.Errorf("alert evidence %v does not cite the query %s", alert.Alert.Evidence, seen["client"].ID)
	}
	if fail.DB.ErrorCode != "42P01" {
		t.Errorf("error code = %q, want 42P01", fail.DB.ErrorCode)
	}
	for _, ev := range events {
		b, _ := json.Marshal(ev)
		if strings.Contains(string(b), "MARKER-7f3a9") {
			t.Errorf("marker value leaked: %s", b)
		}
	}
}

func psqlOut(srv *testdb.Server, query string) ([]byte, error) {
	return exec.Command("psql", srv.DSN, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", query).CombinedOutput()
}

func psql(t *testing.T, srv *testdb.Server, query string) {
	t.Helper()
	if out, err := psqlOut(srv, query); err != nil {
		t.Fatalf("psql %q: %v: %s", query, err, out)
	}
}

// A program that runs one statement over and over is reported in a few
// folded events that still account for every run and every row; lookups of
// different customers by a configured identifier column are not folded.
func TestPostgresFoldsRepeats(t *testing.T) {
	srv := testdb.StartPostgres(t, testdb.Options{})
	psql(t, srv, "CREATE TABLE customers (id int primary key, email text); "+
		"INSERT INTO customers SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 500) g")
	sink := startDBAgent(t, srv.Port, 0, 200*time.Millisecond)
	const byID, byEmail = 300, 20
	var script strings.Builder
	for i := range byID {
		fmt.Fprintf(&script, "SELECT id, email FROM customers WHERE id = %d;\n", i%250+1)
	}
	for i := range byEmail {
		fmt.Fprintf(&script, "SELECT id FROM customers WHERE email = 'user%d@example.com';\n", i+1)
	}
	cmd := exec.Command("psql", srv.DSN, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-")
	cmd.Stdin = strings.NewReader(script.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("psql: %v: %s", err, out)
	}
	var idEvents, idRuns, idRows, emailEvents uint64
	hashes := map[string]bool{}
	await(t, sink, "every lookup", func(ev *event.Event) bool {
		switch {
		case ev.Kind != event.KindDBQuery || ev.DB.Side != "client":
		case strings.Contains(ev.DB.Statement, "WHERE id = ?"):
			idEvents++
			idRuns += ev.DB.Runs()
			idRows += ev.DB.Rows
		case strings.Contains(ev.DB.Statement, "WHERE email = ?"):
			emailEvents++
			if ev.DB.Runs() != 1 || len(ev.DB.Identifiers["customers.email"]) != 1 {
				t.Errorf("email lookup folded or without its hash: executions %d identifiers %v", ev.DB.Executions, ev.DB.Identifiers)
			}
			hashes[ev.DB.Identifiers["customers.email"][0]] = true
		}
		return idRuns >= byID && emailEvents >= byEmail
	})
	if idRuns != byID || idRows != byID {
		t.Errorf("id lookups: events stand for %d runs and %d rows, want %d of each", idRuns, idRows, byID)
	}
	if idEvents > byID/10 {
		t.Errorf("%d events for %d runs of one statement: repeats were not folded", idEvents, byID)
	}
	if len(hashes) != byEmail {
		t.Errorf("%d distinct email hashes, want %d", len(hashes), byEmail)
	}
	t.Logf("%d id lookups reported in %d events", byID, idEvents)
}

func TestPostgresClientPlain(t *testing.T) { pgScenario(t, false) }
func TestPostgresClientTLS(t *testing.T)   { pgScenario(t, true) }

func mariadbScenario(t *testing.T, tls bool) {
	srv := testdb.StartMariaDB(t, testdb.Options{TLS: tls})
	sink := runDBAgent(t, srv.Port)
	dbh, err := sql.Open("mysql", srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer dbh.Close()
	for _, q := range []string{
		"CREATE TABLE customers (id int primary key, email varchar(100))",
		"INSERT INTO customers SELECT seq, concat('user', seq, '@example.com') FROM seq_1_to_1234",
	} {
		if _, err := dbh.Exec(q); err != nil {
			t.Fatal(fmt.Errorf("%s: %w", q, err))
		}
	}
	// The client is the mariadb command-line client, a process of its own.
	args := []string{"-h", srv.Host, "-P", fmt.Sprint(srv.Port), "-u", srv.User, "-p" + srv.Password, srv.Database}
	if tls {
		args = append(args, "--ssl", "--ssl-verify-server-cert=0")
	} else {
		args = append(args, "--skip-ssl")
	}
	query := "SELECT id, email FROM customers WHERE email <> '" + marker + "'"
	if out, err := exec.Command("mariadb", append(args, "-e", query)...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb: %v: %s", err, out)
	}
	if out, err := exec.Command("mariadb", append(args, "-e", "SELECT * FROM no_such_table")...).CombinedOutput(); err == nil {
		t.Fatalf("want an error, got %s", out)
	}

	var events []*event.Event
	seen := map[string]*event.Event{}
	var fail, serverCreate *event.Event
	await(t, sink, "client SELECT, the failed query and the server side of the driver's CREATE", func(ev *event.Event) bool {
		events = append(events, ev)
		if ev.Kind == event.KindDBQuery || ev.Kind == event.KindDBSession {
			b, _ := json.Marshal(ev.DB)
			t.Logf("%s %s", ev.Kind, b)
		}
		switch {
		case ev.Kind == event.KindDBQuery && ev.DB.Command == "SELECT" && strings.Contains(ev.DB.Statement, "FROM customers"):
			seen[ev.DB.Side] = ev
		case ev.Kind == event.KindDBQuery && ev.DB.Side == "server" && strings.Contains(ev.DB.Statement, "CREATE TABLE customers"):
			serverCreate = ev
		case ev.Kind == event.KindDBQuery && ev.DB.ErrorCode != "" && ev.DB.Side == "client":
			fail = ev
		}
		return seen["client"] != nil && fail != nil && serverCreate != nil
	})
	if sel := seen["client"]; sel.DB.Rows != 1234 || sel.DB.TLS != tls || sel.DB.Engine != "mysql" || sel.DB.User != srv.User {
		t.Errorf("client side select = %+v", sel.DB)
	}
	if c := seen["client"]; c.Process.Comm != "mariadb" {
		t.Errorf("client process = %+v, want mariadb", c.Process)
	}
	if s := seen["server"]; s != nil {
		t.Errorf("the server end of the mariadb client's local connection reported %+v; want it left to the client end", s.DB)
	}
	if serverCreate.Process.Comm != "mariadbd" || serverCreate.DB.TLS != tls || serverCreate.DB.User != srv.User {
		t.Errorf("server side create = %+v by %+v", serverCreate.DB, serverCreate.Process)
	}
	if fail.DB.ErrorCode != "1146" {
		t.Errorf("error code = %q, want 1146 (no such table)", fail.DB.ErrorCode)
	}
	for _, ev := range events {
		b, _ := json.Marshal(ev)
		if strings.Contains(string(b), "MARKER-7f3a9") || strings.Contains(string(b), "-p"+srv.Password) {
			t.Errorf("marker value or password leaked: %s", b)
		}
	}
}

func TestMariaDBPlain(t *testing.T) { mariadbScenario(t, false) }
func TestMariaDBTLS(t *testing.T)   { mariadbScenario(t, true) }

// Receives longer than the capture are kept as head and tail, so a result
// of large rows still reports its exact row count and byte total. The
// capture is set to 8 KiB so that nearly every receive is cut.
func TestPostgresLargeRows(t *testing.T) {
	srv := testdb.StartPostgres(t, testdb.Options{})
	sink := runDBAgent(t, srv.Port, 8192)
	psql(t, srv, "SELECT g, repeat('x', 100000) AS blob FROM generate_series(1, 50) g")
	ev := await(t, sink, "client-side db.query of the blobs", func(ev *event.Event) bool {
		return ev.Kind == event.KindDBQuery && ev.DB.Side == "client" && strings.Contains(ev.DB.Statement, "generate_series")
	})
	if ev.DB.Rows != 50 || ev.DB.Bytes < 50*100000 {
		t.Errorf("rows %d bytes %d, want 50 rows of over 5,000,000 bytes", ev.DB.Rows, ev.DB.Bytes)
	}
}

// COPY ... TO STDOUT, the export incidents 2 and 4 describe, is reported
// with the table's row count.
func TestPostgresCopyOut(t *testing.T) {
	srv := testdb.StartPostgres(t, testdb.Options{})
	sink := runDBAgent(t, srv.Port)
	psql(t, srv, "CREATE TABLE customers AS SELECT g AS id, 'user' || g || '@example.com' AS email FROM generate_series(1, 1234) g")
	psql(t, srv, "COPY customers TO STDOUT WITH CSV")
	ev := await(t, sink, "client-side COPY", func(ev *event.Event) bool {
		return ev.Kind == event.KindDBQuery && ev.DB.Side == "client" && ev.DB.Command == "COPY"
	})
	if ev.DB.Rows != 1234 || !slices.Contains(ev.DB.Tables, "customers") {
		t.Errorf("copy = %+v", ev.DB)
	}
	alert := await(t, sink, "db_copy_out alert", func(ev *event.Event) bool {
		return ev.Kind == event.KindAlert && ev.Alert.Rule == "db_copy_out"
	})
	if !slices.Contains(alert.Alert.Evidence, ev.ID) {
		t.Errorf("db_copy_out evidence %v lacks the COPY %s", alert.Alert.Evidence, ev.ID)
	}
}

// A TLS connection whose plaintext no probe can read (Go's own TLS, relayed
// to its socket by another goroutine, here) is reported as a db.session
// marked encrypted: visible, never missing.
func TestPostgresUnobservableTLS(t *testing.T) {
	srv := testdb.StartPostgres(t, testdb.Options{TLS: true})
	bin := filepath.Join(t.TempDir(), "gotlsclient")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/gotlsclient").CombinedOutput(); err != nil {
		t.Fatalf("building the Go TLS client: %v: %s", err, out)
	}
	sink := runDBAgent(t, srv.Port)
	if out, err := exec.Command(bin, srv.DSN).CombinedOutput(); err != nil {
		t.Fatalf("gotlsclient: %v: %s", err, out)
	}
	// The client end cannot be read, so the server end (PostgreSQL's own
	// OpenSSL, whose plaintext the probes read) is not muted: the
	// statement is still reported, from the server.
	var ev, server *event.Event
	await(t, sink, "db.session marked encrypted and the server side's statement", func(e *event.Event) bool {
		switch {
		case e.Kind == event.KindDBSession && e.DB.Side == "client":
			ev = e
		case e.Kind == event.KindDBQuery && e.DB.Side == "server" && strings.Contains(e.DB.Statement, "FROM pg_class"):
			server = e
		}
		return ev != nil && server != nil
	})
	if !ev.DB.Encrypted || ev.DB.Engine != "postgresql" || ev.Process.Comm != "gotlsclient" {
		t.Errorf("db.session = %+v by %+v", ev.DB, ev.Process)
	}
	if !server.DB.TLS || server.DB.Rows != 1 || server.DB.Client != ev.DB.Client {
		t.Errorf("server side = %+v, want the TLS statement of client %s with 1 row", server.DB, ev.DB.Client)
	}
}

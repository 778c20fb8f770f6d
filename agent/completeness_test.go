package agent_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/agent/dbconn"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/agent/sensor/process"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testkernel"
)

var pgbenchSeconds = flag.Int("pgbench-seconds", 30, "how long the completeness test runs pgbench")

// countSink counts db.query events with one server per side and by
// process, without holding them: a long workload must not fill memory or
// block the agent. Connections to other servers (other tests' on this
// machine) are not counted.
type countSink struct {
	mu     sync.Mutex
	server string
	byComm map[string]int // "side/comm" -> db.query events
	loss   uint64
}

func (c *countSink) Publish(ev *event.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch ev.Kind {
	case event.KindDBQuery:
		if ev.DB.Server == c.server {
			c.byComm[ev.DB.Side+"/"+ev.Process.Comm]++
		}
	case event.KindAgentLoss:
		c.loss += ev.Loss.Count
	}
	return nil
}

func (c *countSink) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byComm[key]
}

// runCountingAgent runs a real agent with the db sensor until the test ends.
// stop ends it and waits until every record is processed.
func runCountingAgent(t *testing.T, srv *testdb.Server) (sink *countSink, stop func()) {
	t.Helper()
	testkernel.RequireRoot(t)
	red, err := redact.New(redact.Config{Key: []byte("test-deployment-key")})
	if err != nil {
		t.Fatal(err)
	}
	sink = &countSink{server: srv.Addr(), byComm: map[string]int{}}
	ports := []uint16{uint16(srv.Port)}
	stop = startAgent(t, agent.Options{
		Sensors: []sensor.Sensor{process.New(), db.New(db.Config{Ports: ports})},
		Sink:    sink,
		// Both ends of each local connection, so the server-side parser
		// is counted too (the agent otherwise leaves a local connection
		// to its client end).
		DB: dbconn.Options{Ports: ports, Redactor: red, BothEnds: true},
	})
	return sink, stop
}

// within says whether got is within 0.1% of want.
func within(got, want int) bool {
	d := got - want
	if d < 0 {
		d = -d
	}
	return float64(d) <= 0.001*float64(want)
}

// TestPgbenchCompleteness compares the statements the agent reported with
// PostgreSQL's own count (pg_stat_statements) over a pgbench run, on both
// the client side (pgbench) and the server side (the backends).
func TestPgbenchCompleteness(t *testing.T) {
	if _, err := exec.LookPath("pgbench"); err != nil {
		testenv.Skip(t, "pgbench is not installed (.ci/run installs postgresql)")
	}
	srv := testdb.StartPostgres(t, testdb.Options{Settings: map[string]string{
		"shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "all", "pg_stat_statements.max": "10000",
	}})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE EXTENSION pg_stat_statements"); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pgbench", "-i", "-s", "1", "-q", srv.DSN).CombinedOutput(); err != nil {
		t.Fatalf("pgbench -i: %v: %s", err, out)
	}

	sink, stop := runCountingAgent(t, srv)
	// The agent is this process and ignores its own queries, so the reset
	// and the final count below are not among the events.
	if _, err := conn.Exec(ctx, "SELECT pg_stat_statements_reset()"); err != nil {
		t.Fatal(err)
	}
	// A steady 300 transactions/s (2,100 statements/s, each seen on both
	// sides): completeness is the question here, not how much load the
	// agent can take on two shared cores (make bench measures that; past it
	// the agent reports its losses as agent.loss instead).
	out, err := exec.Command("pgbench", "-n", "-c", "4", "-j", "2", "-R", "300", "-T", strconv.Itoa(*pgbenchSeconds), srv.DSN).CombinedOutput()
	if err != nil {
		t.Fatalf("pgbench: %v: %s", err, out)
	}
	var calls int
	q := `SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
	      WHERE query NOT LIKE '%pg_stat_statements%'`
	if err := conn.QueryRow(ctx, q).Scan(&calls); err != nil {
		t.Fatal(err)
	}
	// pgbench has exited and closed its connections; stopping the agent
	// drains every record already in the ring buffer.
	stop()
	client, server := sink.count("client/pgbench"), sink.count("server/postgres")
	t.Logf("pgbench: %s", lastLines(string(out), 3))
	t.Logf("pg_stat_statements calls %d; agent client side %d, server side %d; loss records %d", calls, client, server, sink.loss)
	if calls < 1000 {
		t.Fatalf("pgbench ran only %d statements", calls)
	}
	if !within(client, calls) || !within(server, calls) {
		t.Errorf("agent counts (client %d, server %d) not within 0.1%% of pg_stat_statements' %d", client, server, calls)
	}
}

// TestMariaDBCompleteness compares the statements the agent reported with
// MariaDB's general query log over a scripted workload of the mariadb client.
func TestMariaDBCompleteness(t *testing.T) {
	srv := testdb.StartMariaDB(t, testdb.Options{})
	dbh, err := sql.Open("mysql", srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer dbh.Close()
	for _, s := range []string{
		"CREATE TABLE accounts (id int primary key, balance int)",
		"INSERT INTO accounts SELECT seq, 0 FROM seq_1_to_1000",
		"SET GLOBAL log_output = 'TABLE'",
		"TRUNCATE mysql.general_log",
	} {
		if _, err := dbh.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	sink, stop := runCountingAgent(t, srv)
	if _, err := dbh.Exec("SET GLOBAL general_log = 1"); err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	const n = 2000
	for i := 0; i < n; i++ {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&script, "SELECT balance FROM accounts WHERE id = %d;\n", i%1000+1)
		case 1:
			fmt.Fprintf(&script, "UPDATE accounts SET balance = balance + 1 WHERE id = %d;\n", i%1000+1)
		case 2:
			fmt.Fprintf(&script, "SELECT count(*) FROM accounts WHERE balance > %d;\n", i%7)
		case 3:
			fmt.Fprintf(&script, "INSERT INTO accounts VALUES (%d, 1) ON DUPLICATE KEY UPDATE balance = 0;\n", 5000+i)
		}
	}
	cmd := exec.Command("mariadb", "-h", srv.Host, "-P", strconv.Itoa(srv.Port), "-u", srv.User, "-p"+srv.Password, "--skip-ssl", srv.Database)
	cmd.Stdin = strings.NewReader(script.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mariadb: %v: %s", err, out)
	}
	if _, err := dbh.Exec("SET GLOBAL general_log = 0"); err != nil {
		t.Fatal(err)
	}
	var logged int
	// The mariadb client's own statements: every Query the server logged
	// from the client's connections (the test's connection is excluded by id).
	var own int
	if err := dbh.QueryRow("SELECT CONNECTION_ID()").Scan(&own); err != nil {
		t.Fatal(err)
	}
	if err := dbh.QueryRow("SELECT count(*) FROM mysql.general_log WHERE command_type = 'Query' AND thread_id <> ?", own).Scan(&logged); err != nil {
		t.Fatal(err)
	}
	stop()
	client, server := sink.count("client/mariadb"), sink.count("server/mariadbd")
	t.Logf("general log %d queries; agent client side %d, server side %d; loss records %d", logged, client, server, sink.loss)
	if logged < n {
		t.Fatalf("general log has %d queries, want at least %d", logged, n)
	}
	if !within(client, logged) || !within(server, logged) {
		t.Errorf("agent counts (client %d, server %d) not within 0.1%% of the general log's %d", client, server, logged)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

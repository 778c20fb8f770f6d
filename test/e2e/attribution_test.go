package e2e

// Statements read at the database server, tied to the person at the
// keyboard of the client end.
//
// A real two-host topology cannot be built on one machine: every agent's
// eBPF sensors see every process of the kernel, so an agent standing for the
// database host would report the client's end too. TestAttributionAcrossHosts
// therefore drives the real collector (its embedded NATS, its store, its
// rules) with two stand-in streams published through the agent's own
// publisher: one speaking for a workstation agent, one for a database host's
// agent. Their events are shaped as the agents send them; no eBPF runs.
// TestAttributionJDBCOnOneHost is the real thing on one host: the real
// agent, a real PostgreSQL with TLS, and a real Java JDBC client whose TLS
// no probe reads.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/publish"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// attributionValues lowers the customer-row limit so hundreds of lookups
// cross it; the shift rule is relaxed because the suite runs at any hour.
const attributionValues = `values {
  off_shift_queries   = 1000000
  max_customer_rows   = 250
  customer_identifier = "customers.id"
}
`

// standIn publishes events as one agent would, numbered in its own boot.
type standIn struct {
	pub            *publish.Publisher
	site, host, id string
	boot           string
	seq            uint64
	process        event.Process
	clock          time.Time
}

func newStandIn(t *testing.T, data, url, site, host string, proc event.Process) *standIn {
	t.Helper()
	cfg := enrolled(t, data, site, url)
	id := cfg.Identity.AgentID
	return &standIn{pub: newPublisher(t, cfg, site, id), site: site, host: host, id: id,
		boot: "boot-" + host, process: proc, clock: time.Now().UTC()}
}

// publish numbers and publishes evs, each a tenth of a second after the
// previous one in event time.
func (s *standIn) publish(t *testing.T, evs ...*event.Event) {
	t.Helper()
	for _, ev := range evs {
		s.seq++
		s.clock = s.clock.Add(100 * time.Millisecond)
		ev.ID, ev.Seq, ev.BootID = event.MakeID(s.boot, s.seq), s.seq, s.boot
		ev.Site, ev.Host, ev.AgentID, ev.Time = s.site, s.host, s.id, s.clock
		if ev.Process == nil {
			p := s.process
			ev.Process = &p
		}
		if err := s.pub.Publish(ev); err != nil {
			t.Fatal(err)
		}
	}
}

// lookup is one customer lookup as a database agent reports it.
func lookup(side, client, server string, id int) *event.Event {
	return &event.Event{Kind: event.KindDBQuery, DB: &event.DB{Engine: "postgresql", Side: side, Client: client, Server: server,
		User: "support_agent", Database: "shop", Statement: "SELECT id, name, email FROM customers WHERE id = ?",
		Tables: []string{"customers"}, Command: "SELECT", Rows: 1, TLS: true,
		Identifiers: map[string][]string{"customers.id": {fmt.Sprintf("hash-%d", id)}}}}
}

// encryptedSession is the client end's report of a connection it cannot
// read (Java's own TLS).
func encryptedSession(client, server string) *event.Event {
	return &event.Event{Kind: event.KindDBSession, DB: &event.DB{Engine: "postgresql", Side: "client", Client: client,
		Server: server, Encrypted: true}}
}

// attributed counts agentID's stored statements from client whose
// attribution has status (and, when not empty, reason) and whose person is
// person (any when empty), through the store's JSON.
func attributed(t *testing.T, data, agentID, client, status, reason, person string) int {
	t.Helper()
	cond := fmt.Sprintf("json_extract(body, '$.db.client') = '%s' AND json_extract(body, '$.attribution.status') = '%s'", client, status)
	if reason != "" {
		cond += fmt.Sprintf(" AND json_extract(body, '$.attribution.reason') = '%s'", reason)
	}
	return storedEvents(t, data, agentID, event.KindDBQuery, person, cond)
}

// awaitAttributed waits until n of agentID's statements from client have
// the status.
func awaitAttributed(t *testing.T, c *collector, agentID, client, status, reason, person string, n int) {
	t.Helper()
	err := testproc.Poll(t.Context(), 60*time.Second, poll, func() error {
		if got := attributed(t, c.Data, agentID, client, status, reason, person); got != n {
			return fmt.Errorf("%d statements of %s from %s with attribution %s %s about %q, want %d", got, agentID, client, status, reason, person, n)
		}
		return nil
	})
	if err != nil {
		c.dump(t)
		t.Fatal(err)
	}
}

func TestAttributionAcrossHosts(t *testing.T) {
	data := t.TempDir()
	port := testproc.FreePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	backend := event.Process{PID: 7001, Comm: "postgres", Exe: "/usr/lib/postgresql/15/bin/postgres", UID: 104,
		User: "postgres", LoginUID: event.NoLoginUID}
	// The database host's agent (stand-in) at the data centre.
	dbHost := newStandIn(t, data, url, "dc", "db-01", backend)
	// The workstation agent (stand-in) at the Leeds office.
	ws := newStandIn(t, data, url, "leeds", "ws-leeds-01", event.Process{PID: 4242, Comm: "java",
		Exe: "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", Cmdline: "java -jar crm-tool.jar", UID: 1201,
		User: "nadia", LoginUID: 1201, LoginUser: "nadia", Session: 12})
	rulesDir := testRules(t, attributionValues)
	c := startCollector(t, data, port, "--rules", rulesDir)
	const server = "10.77.0.5:5432"

	// An unreadable client (JDBC): the database host's statements come
	// first, the workstation's report of the connection after them.
	t.Run("UnreadableClientReportedLate", func(t *testing.T) {
		const client = "10.77.0.21:50432"
		for id := 1; id <= 400; id++ {
			dbHost.publish(t, lookup("server", client, server, id))
		}
		testproc.CheckFor(t, 60*time.Second, poll, func() error {
			if n := storedEvents(t, data, dbHost.id, event.KindDBQuery, "", fmt.Sprintf("json_extract(body, '$.db.client') = '%s'", client)); n != 400 {
				return fmt.Errorf("%d of 400 server-side lookups stored", n)
			}
			return nil
		})
		ws.publish(t, encryptedSession(client, server))
		awaitAttributed(t, c, dbHost.id, client, "attributed", "", "nadia", 400)
		a := c.awaitAlert(t, "excessive_customer_rows", "nadia")
		if a.Event.Alert.Value != 251 || a.Event.Host != ws.host || a.Event.Site != ws.site {
			t.Errorf("excessive_customer_rows value %v on %s/%s, want 251 on %s/%s", a.Event.Alert.Value, a.Event.Site, a.Event.Host, ws.site, ws.host)
		}
		for _, ev := range a.Evidence {
			if ev.AgentID != dbHost.id || ev.DB == nil || ev.DB.Side != "server" {
				t.Errorf("evidence %s is not one of the database host's server-side statements", ev.ID)
			}
		}
		if n := len(c.alertsFor(t, "excessive_customer_rows", "nadia")); n != 1 {
			t.Errorf("%d excessive_customer_rows alerts about nadia, want one", n)
		}
	})

	// A readable client: the workstation reported every statement itself,
	// so the server's copies are marked and not counted for the person
	// again.
	t.Run("ReadableClientCountedOnce", func(t *testing.T) {
		const client = "10.77.0.21:50433"
		omar := event.Process{PID: 4300, Comm: "psql", Exe: "/usr/bin/psql", UID: 1202, User: "omar", LoginUID: 1202, LoginUser: "omar"}
		for id := 1; id <= 300; id++ {
			q := lookup("client", client, server, id)
			q.Process = &omar
			ws.publish(t, q)
			dbHost.publish(t, lookup("server", client, server, id))
		}
		awaitAttributed(t, c, dbHost.id, client, "duplicate", "", "", 300)
		if n := len(c.alertsFor(t, "excessive_customer_rows", "omar")); n != 0 {
			t.Errorf("%d excessive_customer_rows alerts about omar from the server's copies of his statements", n)
		}
	})

	// The server sees an address no agent reports from: the client end is
	// behind NAT, a bastion or has no agent.
	t.Run("NoAgentOnTheClientAddress", func(t *testing.T) {
		for id := 1; id <= 20; id++ {
			dbHost.publish(t, lookup("server", "203.0.113.7:40001", server, id))
		}
		awaitAttributed(t, c, dbHost.id, "203.0.113.7:40001", "unjoined", "no_agent", "", 20)
	})

	// The workstation's address is known but it never reports this
	// connection: judged when the grace period ends.
	t.Run("NoReportOfTheConnection", func(t *testing.T) {
		for id := 1; id <= 5; id++ {
			dbHost.publish(t, lookup("server", "10.77.0.21:50999", server, id))
		}
		awaitAttributed(t, c, dbHost.id, "10.77.0.21:50999", "unjoined", "no_report", "", 5)
	})

	// A dual-stack server names the client as an IPv4-mapped IPv6 address.
	t.Run("IPv4MappedAddress", func(t *testing.T) {
		const client = "10.77.0.21:50500"
		ws.publish(t, encryptedSession(client, server))
		for id := 1; id <= 10; id++ {
			dbHost.publish(t, lookup("server", "[::ffff:10.77.0.21]:50500", "[::ffff:10.77.0.5]:5432", id))
		}
		awaitAttributed(t, c, dbHost.id, "[::ffff:10.77.0.21]:50500", "attributed", "", "nadia", 10)
	})

	// The collector restarts while statements wait for their connection's
	// report: they are judged after the restart, when it comes.
	t.Run("CollectorRestartWhileHeld", func(t *testing.T) {
		const client = "10.77.0.21:50600"
		for id := 1; id <= 10; id++ {
			dbHost.publish(t, lookup("server", client, server, id))
		}
		testproc.CheckFor(t, 60*time.Second, poll, func() error {
			if n := storedEvents(t, data, dbHost.id, event.KindDBQuery, "", fmt.Sprintf("json_extract(body, '$.db.client') = '%s'", client)); n != 10 {
				return fmt.Errorf("%d of 10 server-side lookups stored", n)
			}
			return nil
		})
		c.Stop(syscall.SIGTERM, 10*time.Second)
		c = startCollector(t, data, port, "--rules", rulesDir)
		ws.publish(t, encryptedSession(client, server))
		awaitAttributed(t, c, dbHost.id, client, "attributed", "", "nadia", 10)
	})
}

// javaLookups is a tiny JDBC client: it looks customers up one by one
// with a prepared statement over one TLS connection, as a desktop CRM tool
// written in Java would; with "hold" it then keeps the connection open
// until its stdin closes, as a tool left open all day does.
const javaLookups = `import java.sql.*;

public class Lookups {
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[1]);
        try (Connection c = DriverManager.getConnection(args[0]);
             PreparedStatement ps = c.prepareStatement("SELECT id, name, email FROM customers WHERE id = ?")) {
            for (int i = 1; i <= n; i++) {
                ps.setInt(1, i);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) { }
                }
            }
            if (args.length > 2 && args[2].equals("hold")) {
                while (System.in.read() != -1) { }
            }
        }
    }
}
`

// compileJava compiles the JDBC client and returns the class path to run it.
func compileJava(t *testing.T) string {
	t.Helper()
	requireTools(t, "javac", "java")
	const jar = "/usr/share/java/postgresql.jar"
	if _, err := os.Stat(jar); err != nil {
		testenv.Skipf(t, "the PostgreSQL JDBC driver is not installed (%s, package libpostgresql-jdbc-java)", jar)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "Lookups.java")
	if err := os.WriteFile(src, []byte(javaLookups), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("javac", "-cp", jar, "-d", dir, src).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v: %s", err, out)
	}
	return dir + ":" + jar
}

// A person runs a Java tool that reads customers over JDBC with TLS on the
// database host itself. Java's TLS is its own: no probe reads the client's
// plaintext, so only the server's end (PostgreSQL's libssl) has the
// statements. They must count as the person's.
func TestAttributionJDBCOnOneHost(t *testing.T) {
	t.Run("closed", func(t *testing.T) { testJDBCOnOneHost(t, false) })
	// The session is still open when its statements must be the person's:
	// the client end's report that the connection cannot be read comes as
	// it is found so, not only when the connection closes, long after the
	// collector's grace period.
	t.Run("held-open", func(t *testing.T) { testJDBCOnOneHost(t, true) })
}

func testJDBCOnOneHost(t *testing.T, hold bool) {
	testkernel.RequireRoot(t)
	requireTools(t, "psql", "useradd")
	classpath := compileJava(t)
	pg := testdb.StartPostgres(t, testdb.Options{TLS: true})
	out, err := exec.Command("psql", pg.DSN, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", `
CREATE TABLE customers (id int PRIMARY KEY, name text, email text);
INSERT INTO customers SELECT g, 'Customer ' || g, 'customer' || g || '@example.com' FROM generate_series(1, 5000) g;
CREATE ROLE support_agent LOGIN;
GRANT SELECT ON customers TO support_agent;`).CombinedOutput()
	if err != nil {
		t.Fatalf("loading customers: %v: %s", err, out)
	}
	keyFile, _ := deploymentKey(t)
	rulesDir := testRules(t, attributionValues)
	data := t.TempDir()
	c := startCollector(t, data, testproc.FreePort(t), "--rules", rulesDir, "--host-rules", rulesDir)
	jade := ensurePerson(t, "vigil-e2e-jade")
	agent := startAgent(t, c, data, c.NATS, agentOpts{site: "leeds", host: "db-leeds-01", dbPorts: []int{pg.Port},
		rulesDir: rulesDir, keyFile: keyFile, idColumns: []string{"customers.id"}})

	// Far more lookups than the role needs: 400 customers, one by one.
	const lookups = 400
	url := fmt.Sprintf("jdbc:postgresql://127.0.0.1:%d/postgres?user=support_agent&sslmode=require", pg.Port)
	java := "json_extract(body, '$.db.side') = 'client' AND json_extract(body, '$.db.encrypted') AND json_extract(body, '$.process.comm') = 'java'"
	if hold {
		cmd := jade.cmd("java", "-cp", classpath, "Lookups", url, fmt.Sprint(lookups), "hold")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		defer func() {
			stdin.Close()
			if err := <-exited; err != nil {
				t.Errorf("java: %v: %s", err, out.String())
			}
		}()
		// Every lookup attributed below is attributed while the connection
		// is open, so by the report made as it was found unreadable: the
		// one made at its close is not sent yet.
		testproc.CheckFor(t, 60*time.Second, poll, func() error {
			if n := storedEvents(t, data, agent.id, event.KindDBSession, jade.name, java+
				" AND json_extract(body, '$.db.state') = 'start'"); n != 1 {
				return fmt.Errorf("%d open-time encrypted db.session events of jade's java, want 1", n)
			}
			return nil
		})
	} else {
		jade.run(t, "java", "-cp", classpath, "Lookups", url, fmt.Sprint(lookups))
		// The client end is reported as a connection that cannot be read,
		// from the java process, about jade: when found so, and at its close.
		testproc.CheckFor(t, 60*time.Second, poll, func() error {
			if n := storedEvents(t, data, agent.id, event.KindDBSession, jade.name, java+
				" AND json_extract(body, '$.db.state') = 'end'"); n != 1 {
				return fmt.Errorf("%d closing encrypted db.session events of jade's java, want 1", n)
			}
			return nil
		})
	}
	// Every lookup the server read is jade's.
	serverLookups := "json_extract(body, '$.db.side') = 'server' AND json_extract(body, '$.db.statement') LIKE '%FROM customers WHERE id =%'"
	err = testproc.Poll(t.Context(), 60*time.Second, poll, func() error {
		if n := storedEvents(t, data, agent.id, event.KindDBQuery, jade.name, serverLookups+
			" AND json_extract(body, '$.attribution.status') = 'attributed' AND json_extract(body, '$.attribution.comm') = 'java'"); n != lookups {
			return fmt.Errorf("%d of the %d server-side lookups attributed to jade's java", n, lookups)
		}
		return nil
	})
	if err != nil {
		c.dump(t)
		t.Fatal(err)
	}
	a := c.awaitAlert(t, "excessive_customer_rows", jade.name)
	if v := a.Event.Alert.Value; v < 251 || v > lookups {
		t.Errorf("excessive_customer_rows value %v, want the first sum past 250 rows (at most %d)", v, lookups)
	}
	for _, ev := range a.Evidence {
		if ev.DB == nil || ev.DB.Side != "server" || !strings.Contains(ev.DB.Statement, "FROM customers") {
			t.Errorf("evidence %s is not a server-side customer lookup: %+v", ev.ID, ev.DB)
		}
	}
	// Once: not again from the host's own rules, nor twice at the collector.
	if n := len(c.alertsFor(t, "excessive_customer_rows", jade.name)); n != 1 {
		t.Errorf("%d excessive_customer_rows alerts about jade, want one", n)
	}
	if n := len(c.alertsFor(t, "excessive_customer_rows", "postgres")); n != 0 {
		t.Errorf("%d excessive_customer_rows alerts about the postgres account", n)
	}
}

package agent_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
)

// unixSocketClient is what a db.query over a Unix-domain socket names as
// its client end: the client socket's inode, as ss -x and /proc/<pid>/fd
// show it.
func unixSocketClient(ev *event.Event) bool {
	return strings.HasPrefix(ev.DB.Client, "socket:[") && strings.HasSuffix(ev.DB.Client, "]")
}

// psql over the server's Unix-domain socket (no TCP at all, the way psql
// with no -h connects on a database host) is read like a TCP connection:
// each statement from the client end, with rows, redaction, errors and
// folded repeats; the server end is left to the client end.
func TestPostgresUnixSocket(t *testing.T) {
	srv := testdb.StartPostgres(t, testdb.Options{})
	psql(t, srv, "CREATE TABLE customers (id int primary key, email text); "+
		"INSERT INTO customers SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 1234) g")
	sink := startDBAgent(t, srv.Port, 0, 200*time.Millisecond)
	socket := filepath.Join(srv.Socket, fmt.Sprintf(".s.PGSQL.%d", srv.Port))
	overSocket := func(args ...string) *exec.Cmd {
		return exec.Command("psql", append([]string{"-h", srv.Socket, "-p", fmt.Sprint(srv.Port), "-U", srv.User,
			"-d", srv.Database, "-X", "-q", "-v", "ON_ERROR_STOP=1"}, args...)...)
	}
	if out, err := overSocket("-c", "SELECT id, email FROM customers WHERE email <> '"+marker+"'").CombinedOutput(); err != nil {
		t.Fatalf("psql over the socket: %v: %s", err, out)
	}
	if out, err := overSocket("-c", "SELECT * FROM no_such_table").CombinedOutput(); err == nil {
		t.Fatalf("want an error, got %s", out)
	}
	const repeats = 100
	var script strings.Builder
	for i := range repeats {
		fmt.Fprintf(&script, "SELECT email FROM customers WHERE id = %d;\n", i+1)
	}
	cmd := overSocket("-f", "-")
	cmd.Stdin = strings.NewReader(script.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("psql script over the socket: %v: %s", err, out)
	}

	var events []*event.Event
	var sel, fail *event.Event
	var lookups, lookupEvents uint64
	await(t, sink, "the SELECT, the failed query and every lookup, over the socket", func(ev *event.Event) bool {
		events = append(events, ev)
		switch {
		case ev.Kind != event.KindDBQuery:
		case ev.DB.Side == "server":
			if strings.Contains(ev.DB.Statement, "customers") {
				t.Errorf("the server end of a local socket connection reported %+v; want it left to the client end", ev.DB)
			}
		case ev.DB.Command == "SELECT" && strings.Contains(ev.DB.Statement, "email <> ?"):
			sel = ev
		case ev.DB.ErrorCode != "":
			fail = ev
		case strings.Contains(ev.DB.Statement, "WHERE id = ?"):
			lookups += ev.DB.Runs()
			lookupEvents++
		}
		return sel != nil && fail != nil && lookups >= repeats
	})
	if sel.DB.Rows != 1234 || sel.DB.Engine != "postgresql" || sel.DB.User != srv.User || sel.DB.Side != "client" ||
		sel.DB.TLS || sel.Process.Comm != "psql" {
		t.Errorf("select over the socket = %+v by %+v", sel.DB, sel.Process)
	}
	if sel.DB.Server != socket || !unixSocketClient(sel) {
		t.Errorf("select over the socket names server %q client %q, want %q and the client socket's inode", sel.DB.Server, sel.DB.Client, socket)
	}
	if fail.DB.ErrorCode != "42P01" || fail.DB.Server != socket {
		t.Errorf("failed query = %+v, want 42P01 on %s", fail.DB, socket)
	}
	if lookups != repeats || lookupEvents > repeats/10 {
		t.Errorf("%d lookups in %d events, want %d folded into a few", lookups, lookupEvents, repeats)
	}
	for _, ev := range events {
		b, _ := json.Marshal(ev)
		if strings.Contains(string(b), "MARKER-7f3a9") {
			t.Errorf("marker value leaked: %s", b)
		}
	}
}

// The mariadb client over the server's Unix-domain socket (no -h) is read
// like a TCP connection, from the client end.
func TestMariaDBUnixSocket(t *testing.T) {
	srv := testdb.StartMariaDB(t, testdb.Options{})
	setup := "CREATE TABLE customers (id int primary key, email varchar(100)); " +
		"INSERT INTO customers SELECT seq, concat('user', seq, '@example.com') FROM seq_1_to_1234"
	args := []string{"--no-defaults", "--socket=" + srv.Socket, "-u", srv.User, "-p" + srv.Password, srv.Database}
	if out, err := exec.Command("mariadb", append(args, "-e", setup)...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb: %v: %s", err, out)
	}
	sink := runDBAgent(t, srv.Port)
	query := "SELECT id, email FROM customers WHERE email <> '" + marker + "'"
	if out, err := exec.Command("mariadb", append(args, "-e", query)...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb: %v: %s", err, out)
	}
	if out, err := exec.Command("mariadb", append(args, "-e", "SELECT * FROM no_such_table")...).CombinedOutput(); err == nil {
		t.Fatalf("want an error, got %s", out)
	}
	var events []*event.Event
	var sel, fail *event.Event
	await(t, sink, "the SELECT and the failed query, over the socket", func(ev *event.Event) bool {
		events = append(events, ev)
		switch {
		case ev.Kind != event.KindDBQuery:
		case ev.DB.Side == "server":
			if strings.Contains(ev.DB.Statement, "customers") {
				t.Errorf("the server end of a local socket connection reported %+v; want it left to the client end", ev.DB)
			}
		case ev.DB.Command == "SELECT" && strings.Contains(ev.DB.Statement, "FROM customers"):
			sel = ev
		case ev.DB.ErrorCode != "":
			fail = ev
		}
		return sel != nil && fail != nil
	})
	if sel.DB.Rows != 1234 || sel.DB.Engine != "mysql" || sel.DB.User != srv.User || sel.Process.Comm != "mariadb" {
		t.Errorf("select over the socket = %+v by %+v", sel.DB, sel.Process)
	}
	if sel.DB.Server != srv.Socket || !unixSocketClient(sel) {
		t.Errorf("select over the socket names server %q client %q, want %q and the client socket's inode", sel.DB.Server, sel.DB.Client, srv.Socket)
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

package agent_test

import (
	"database/sql"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
)

// mariadb --compress (the compressed protocol, zlib), over TCP and over
// the Unix socket, is read like the plain protocol: the statements, their
// rows and their errors.
func TestMariaDBCompressed(t *testing.T) {
	srv := testdb.StartMariaDB(t, testdb.Options{})
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
	sink := runDBAgent(t, srv.Port)
	for _, via := range []struct{ name, alias string }{{"tcp", "via_tcp"}, {"socket", "via_socket"}} {
		args := []string{"--no-defaults", "--skip-ssl", "--compress", "-u", srv.User, "-p" + srv.Password, srv.Database}
		if via.name == "tcp" {
			args = append(args, "-h", srv.Host, "-P", fmt.Sprint(srv.Port))
		} else {
			args = append(args, "--socket="+srv.Socket)
		}
		query := "SELECT id, email AS " + via.alias + " FROM customers WHERE email <> '" + marker + "'; SELECT nope FROM customers"
		if out, err := exec.Command("mariadb", append(args, "-e", query)...).CombinedOutput(); err == nil {
			t.Fatalf("mariadb --compress over %s: want the last statement's error, got %s", via.name, out)
		}
		var sel, fail *event.Event
		await(t, sink, "the compressed SELECT and error over "+via.name, func(ev *event.Event) bool {
			switch {
			case ev.Kind == event.KindDBSession && ev.Process.Comm == "mariadb":
				t.Errorf("compressed connection over %s reported unreadable: %+v", via.name, ev.DB)
			case ev.Kind != event.KindDBQuery || ev.DB.Side != "client":
			case strings.Contains(ev.DB.Statement, "AS "+via.alias):
				sel = ev
			case ev.DB.ErrorCode == "1054":
				fail = ev
			}
			return sel != nil && fail != nil
		})
		if sel.DB.Rows != 1234 || sel.DB.Partial || sel.Process.Comm != "mariadb" || sel.DB.User != srv.User {
			t.Errorf("compressed select over %s = %+v by %+v, want 1234 rows", via.name, sel.DB, sel.Process)
		}
	}
}

package dbwire

import (
	"context"
	"database/sql"
	"math/rand"
	"os/exec"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/vigilhq/vigil/internal/testdb"
)

// myWorkload runs the statements checkMySQL expects over one connection.
func myWorkload(t *testing.T, dsn string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := sql.Open("mysql", dsn+"&multiStatements=true")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	count := func(q string, args ...any) int {
		t.Helper()
		rows, err := conn.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	mustExec("CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(100), note VARCHAR(100))")
	mustExec("INSERT INTO customers SELECT seq, CONCAT('user', seq, '@example.com'), REPEAT('x', 10) FROM seq_1_to_1234")
	mustExec("UPDATE customers SET email = ? WHERE id = ?", marker+"@example.com", 7)
	if n := count("SELECT id, email, note FROM customers ORDER BY id"); n != 1234 {
		t.Fatalf("select returned %d rows", n)
	}
	if n := count("SELECT id FROM customers WHERE email = '" + marker + "@example.com' OR note = 'MARKER-7f3a9'"); n != 1 {
		t.Fatalf("marker select returned %d rows", n)
	}
	if n := count("SELECT id, note FROM customers WHERE email = ?", marker+"@example.com"); n != 1 {
		t.Fatalf("bound marker select returned %d rows", n)
	}
	if _, err := conn.ExecContext(ctx, "SELECT * FROM missing_table WHERE id = 'MARKER-7f3a9'"); err == nil {
		t.Fatal("query on a missing table succeeded")
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO customers VALUES (7, 'MARKER-7f3a9', 'dup')"); err == nil {
		t.Fatal("duplicate insert succeeded")
	}
	mustExec("INSERT INTO customers VALUES (5001, 'a@b', 'x'), (5002, 'c@d', 'y'), (5003, 'e@f', 'z')")
	mustExec("SELECT 1; DELETE FROM customers WHERE id > 5000; SELECT 2")
	mustExec("USE mysql")
}

func checkMySQL(t *testing.T, recs []Record) {
	t.Helper()
	assertNoMarker(t, recs)
	r := findRecord(t, recs, "SELECT id, email, note FROM customers ORDER BY id")
	if r.DB.Rows != 1234 || r.DB.Command != "SELECT" || r.DB.Bytes < 1234*20 || r.Partial {
		t.Errorf("select: %+v", r)
	}
	if strings.Join(r.DB.Tables, ",") != "customers" || !contains(r.DB.Columns, "email") {
		t.Errorf("select tables/columns: %v %v", r.DB.Tables, r.DB.Columns)
	}
	if r.DB.User != "vigil" || r.DB.Database != "vigil" || r.DB.Engine != EngineMySQL {
		t.Errorf("select session: %+v", r.DB)
	}
	want := testRedactor(t).IdentifierHash(marker + "@example.com")
	r = findRecord(t, recs, "SELECT id FROM customers WHERE email = ? OR note = ?")
	if r.DB.Rows != 1 || len(r.DB.Identifiers["email"]) != 1 || r.DB.Identifiers["email"][0] != want {
		t.Errorf("marker select: %+v", r.DB)
	}
	r = findRecord(t, recs, "SELECT id, note FROM customers WHERE email = ?")
	if r.DB.Rows != 1 || len(r.DB.Identifiers["email"]) != 1 || r.DB.Identifiers["email"][0] != want {
		t.Errorf("prepared marker select (identifier from the execute value): %+v", r.DB)
	}
	r = findRecord(t, recs, "UPDATE customers SET email = ? WHERE id = ?")
	if r.DB.Rows != 1 || !r.RowsFromServer || r.DB.Identifiers["customers.id"] == nil {
		t.Errorf("update: %+v", r.DB)
	}
	r = findRecord(t, recs, "INSERT INTO customers SELECT seq")
	if r.DB.Rows != 1234 || r.DB.Command != "INSERT" {
		t.Errorf("insert: %+v", r.DB)
	}
	r = findRecord(t, recs, "SELECT * FROM missing_table")
	if r.DB.ErrorCode != "1146" || !strings.HasPrefix(r.DB.Error, "42S02") {
		t.Errorf("failed query: %+v", r.DB)
	}
	r = findRecord(t, recs, "INSERT INTO customers VALUES (?, ?, ?)")
	if r.DB.ErrorCode != "1062" {
		t.Errorf("duplicate: %+v", r.DB)
	}
	r = findRecord(t, recs, "DELETE FROM customers WHERE id > ?")
	if r.DB.Rows != 3 || r.DB.Command != "DELETE" {
		t.Errorf("delete in multi-statement query: %+v", r.DB)
	}
	for _, r := range recs {
		if r.DB.DurationMS < 0 || r.End.Before(r.Start) {
			t.Errorf("bad timing: %+v", r)
		}
	}
}

func TestMySQLLive(t *testing.T) {
	srv := testdb.StartMariaDB(t, testdb.Options{})
	px := testdb.StartProxy(t, srv.Addr())
	myWorkload(t, strings.Replace(srv.DSN, srv.Addr(), px.Addr, 1))
	// The mariadb command-line client (libmariadb) as a second connection.
	host, port, _ := strings.Cut(px.Addr, ":")
	out, err := exec.Command("mariadb", "--no-defaults", "--skip-ssl", "-h", host, "-P", port, "-uvigil", "-pvigil", "vigil",
		"-e", "SELECT id FROM customers WHERE email = 'MARKER-7f3a9@example.com'; SELECT COUNT(*) FROM customers; SELECT nope FROM customers").CombinedOutput()
	if err == nil {
		t.Fatalf("mariadb client: expected an error from the last statement:\n%s", out)
	}
	px.Close()
	all := px.Chunks()
	chunks := connChunks(all, 0)
	recs, tr := replay(t, EngineMySQL, chunks, nil)
	checkMySQL(t, recs)
	if st := tr.Stats(); st.ParseErrors != 0 {
		t.Errorf("parse errors: %+v", st)
	}
	if tr.Session().Database != "mysql" {
		t.Errorf("USE not followed: %+v", tr.Session())
	}
	for seed := int64(1); seed <= 5; seed++ {
		recs2, _ := replay(t, EngineMySQL, chunks, rand.New(rand.NewSource(seed)))
		if !sameRecords(recs, recs2) {
			t.Errorf("seed %d: random chunking changed the records", seed)
		}
	}
	cli := connChunks(all, 1)
	crecs, _ := replay(t, EngineMySQL, cli, nil)
	checkMySQLCLI(t, crecs)
	if *update {
		saveFixture(t, "mysql_session.json", chunks)
		saveFixture(t, "mysql_cli_session.json", cli)
	}
}

func checkMySQLCLI(t *testing.T, recs []Record) {
	t.Helper()
	assertNoMarker(t, recs)
	r := findRecord(t, recs, "SELECT id FROM customers WHERE email = ?")
	if r.DB.Rows != 1 || r.DB.User != "vigil" || r.DB.Database != "vigil" {
		t.Errorf("cli select: %+v", r.DB)
	}
	r = findRecord(t, recs, "SELECT COUNT(*) FROM customers")
	if r.DB.Rows != 1 {
		t.Errorf("cli count: %+v", r.DB)
	}
	r = findRecord(t, recs, "SELECT nope FROM customers")
	if r.DB.ErrorCode != "1054" {
		t.Errorf("cli error: %+v", r.DB)
	}
}

func TestMySQLFixture(t *testing.T) {
	chunks := loadFixture(t, "mysql_session.json")
	recs, _ := replay(t, EngineMySQL, chunks, nil)
	checkMySQL(t, recs)
	recs2, _ := replay(t, EngineMySQL, chunks, rand.New(rand.NewSource(42)))
	if !sameRecords(recs, recs2) {
		t.Fatal("random chunking changed the records")
	}
	crecs, _ := replay(t, EngineMySQL, loadFixture(t, "mysql_cli_session.json"), nil)
	checkMySQLCLI(t, crecs)
}

package dbwire

import (
	"context"
	"math/rand"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigilhq/vigil/internal/testdb"
)

// pgWorkload runs the statements the Postgres checks expect.
func pgWorkload(t *testing.T, dsn string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	simple := pgx.QueryExecModeSimpleProtocol
	mustExec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	mustExec("CREATE TABLE customers (id int PRIMARY KEY, email text, note text)", simple)
	mustExec("INSERT INTO customers SELECT g, 'user' || g || '@example.com', repeat('x', 10) FROM generate_series(1, 1234) g", simple)
	mustExec("UPDATE customers SET email = $1 WHERE id = 7", marker+"@example.com")

	count := func(sql string, args ...any) int {
		t.Helper()
		rows, err := conn.Query(ctx, sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	if n := count("SELECT id, email, note FROM customers ORDER BY id"); n != 1234 {
		t.Fatalf("select returned %d rows", n)
	}
	if n := count("SELECT id FROM customers WHERE email = '"+marker+"@example.com' OR note = 'MARKER-7f3a9'", simple); n != 1 {
		t.Fatalf("marker select returned %d rows", n)
	}
	if n := count("SELECT id, note FROM customers WHERE email = $1", marker+"@example.com"); n != 1 {
		t.Fatalf("bound marker select returned %d rows", n)
	}
	var sb strings.Builder
	tag, err := conn.PgConn().CopyTo(ctx, &sb, "COPY (SELECT * FROM customers WHERE id <= 1000) TO STDOUT")
	if err != nil || tag.RowsAffected() != 1000 {
		t.Fatalf("copy to: %v %v", tag, err)
	}
	tag, err = conn.PgConn().CopyFrom(ctx, strings.NewReader("5001\ta@b\tx\n5002\tc@d\ty\n5003\te@f\tz\n"), "COPY customers FROM STDIN")
	if err != nil || tag.RowsAffected() != 3 {
		t.Fatalf("copy from: %v %v", tag, err)
	}
	if _, err := conn.Exec(ctx, "SELECT * FROM missing_table WHERE id = 'MARKER-7f3a9'"); err == nil {
		t.Fatal("query on a missing table succeeded")
	}
	if _, err := conn.Exec(ctx, "SELECT 1/0 FROM customers WHERE email = 'MARKER-7f3a9'", simple); err == nil {
		t.Fatal("division by zero succeeded")
	}
	mustExec("SELECT 1; DELETE FROM customers WHERE id > 5000; SELECT 2", simple)
}

// checkPostgres checks the records of pgWorkload.
func checkPostgres(t *testing.T, recs []Record) {
	t.Helper()
	assertNoMarker(t, recs)
	r := findRecord(t, recs, "SELECT id, email, note FROM customers ORDER BY id")
	if r.DB.Rows != 1234 || !r.RowsFromServer || r.DB.Command != "SELECT" || r.DB.Bytes < 1234*20 {
		t.Errorf("select: %+v", r)
	}
	if strings.Join(r.DB.Tables, ",") != "customers" || !contains(r.DB.Columns, "email") {
		t.Errorf("select tables/columns: %v %v", r.DB.Tables, r.DB.Columns)
	}
	if r.DB.User != "postgres" || r.DB.Database != "postgres" || r.DB.Engine != EnginePostgres {
		t.Errorf("select session: %+v", r.DB)
	}
	r = findRecord(t, recs, "SELECT id FROM customers WHERE email = ? OR note = ?")
	if r.DB.Rows != 1 || len(r.DB.Identifiers["email"]) != 1 {
		t.Errorf("simple marker select: %+v", r.DB)
	}
	want := testRedactor(t).IdentifierHash(marker + "@example.com")
	if r.DB.Identifiers["email"][0] != want {
		t.Errorf("identifier hash %v, want %s", r.DB.Identifiers, want)
	}
	r = findRecord(t, recs, "SELECT id, note FROM customers WHERE email = $1")
	if r.DB.Rows != 1 || len(r.DB.Identifiers["email"]) != 1 || r.DB.Identifiers["email"][0] != want {
		t.Errorf("bound marker select (identifier from the Bind value): %+v", r.DB)
	}
	r = findRecord(t, recs, "COPY (SELECT * FROM customers WHERE id <= ?) TO STDOUT")
	if r.DB.Rows != 1000 || r.DB.Command != "COPY" {
		t.Errorf("copy to: %+v", r.DB)
	}
	r = findRecord(t, recs, "COPY customers FROM STDIN")
	if r.DB.Rows != 3 {
		t.Errorf("copy from: %+v", r.DB)
	}
	r = findRecord(t, recs, "SELECT * FROM missing_table")
	if r.DB.ErrorCode != "42P01" || !strings.HasPrefix(r.DB.Error, "undefined_table") {
		t.Errorf("failed query: %+v", r.DB)
	}
	r = findRecord(t, recs, "SELECT ? / ? FROM customers")
	if r.DB.ErrorCode != "22012" {
		t.Errorf("failed simple query: %+v", r.DB)
	}
	r = findRecord(t, recs, "DELETE FROM customers WHERE id > ?")
	if r.DB.Rows != 3 || r.DB.Command != "DELETE" {
		t.Errorf("delete in multi-statement query: %+v", r.DB)
	}
	r = findRecord(t, recs, "UPDATE customers SET email = $1 WHERE id = ?")
	if r.DB.Rows != 1 || r.DB.Identifiers["customers.id"] == nil {
		t.Errorf("update: %+v", r.DB)
	}
	for _, r := range recs {
		if r.DB.DurationMS < 0 || r.End.Before(r.Start) {
			t.Errorf("bad timing: %+v", r)
		}
	}
}

// TestPostgresLive runs the workload against a real server through a
// recording proxy and checks what the tracker makes of the bytes, whole and
// cut at random points.
func TestPostgresLive(t *testing.T) {
	srv := testdb.StartPostgres(t, testdb.Options{})
	px := testdb.StartProxy(t, srv.Addr())
	pgWorkload(t, strings.Replace(srv.DSN, srv.Addr(), px.Addr, 1))
	// psql (libpq) as a second connection.
	host, port, _ := strings.Cut(px.Addr, ":")
	psql := filepath.Join(filepath.Dir(testdbBinary(t, "/usr/lib/postgresql/*/bin/psql")), "psql")
	out, err := exec.Command(psql, "host="+host+" port="+port+" user=postgres dbname=postgres sslmode=disable",
		"-c", "SELECT id FROM customers WHERE email = 'MARKER-7f3a9@example.com'",
		"-c", "SELECT count(*) FROM customers", "-c", "SELECT nope FROM customers").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "nope") {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	px.Close()
	all := px.Chunks()
	chunks := connChunks(all, 0)
	precs, _ := replay(t, EnginePostgres, connChunks(all, 1), nil)
	checkPsql(t, precs)
	recs, tr := replay(t, EnginePostgres, chunks, nil)
	checkPostgres(t, recs)
	if st := tr.Stats(); st.ParseErrors != 0 {
		t.Errorf("parse errors: %+v", st)
	}
	for seed := int64(1); seed <= 5; seed++ {
		recs2, _ := replay(t, EnginePostgres, chunks, rand.New(rand.NewSource(seed)))
		if !sameRecords(recs, recs2) {
			t.Errorf("seed %d: random chunking changed the records", seed)
		}
	}
	if *update {
		saveFixture(t, "postgres_session.json", chunks)
		saveFixture(t, "postgres_psql_session.json", connChunks(all, 1))
	}
}

// TestPostgresFixture checks a recorded session without a server.
func TestPostgresFixture(t *testing.T) {
	chunks := loadFixture(t, "postgres_session.json")
	recs, _ := replay(t, EnginePostgres, chunks, nil)
	checkPostgres(t, recs)
	recs2, _ := replay(t, EnginePostgres, chunks, rand.New(rand.NewSource(42)))
	if !sameRecords(recs, recs2) {
		t.Fatal("random chunking changed the records")
	}
	precs, _ := replay(t, EnginePostgres, loadFixture(t, "postgres_psql_session.json"), nil)
	checkPsql(t, precs)
}

func checkPsql(t *testing.T, recs []Record) {
	t.Helper()
	assertNoMarker(t, recs)
	r := findRecord(t, recs, "SELECT id FROM customers WHERE email = ?")
	if r.DB.Rows != 1 || r.DB.User != "postgres" || len(r.DB.Identifiers["email"]) != 1 {
		t.Errorf("psql select: %+v", r.DB)
	}
	r = findRecord(t, recs, "SELECT count(*) FROM customers")
	if r.DB.Rows != 1 || !contains(r.DB.ResultColumns, "count") {
		t.Errorf("psql count: %+v", r.DB)
	}
	r = findRecord(t, recs, "SELECT nope FROM customers")
	if r.DB.ErrorCode != "42703" {
		t.Errorf("psql error: %+v", r.DB)
	}
}

package dbwire

import (
	"context"
	"encoding/json"
	"flag"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/internal/testdb"
)

var update = flag.Bool("update", false, "rewrite recorded fixtures in testdata from real servers")

const marker = "MARKER-7f3a9"

func testRedactor(t testing.TB) *redact.Redactor {
	t.Helper()
	r, err := redact.New(redact.Config{Key: []byte("test-deployment-key"), IdentifierColumns: []string{"customers.id", "email"}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// replay feeds recorded chunks of one connection to a new tracker. With rng
// set, each chunk is cut at random points into several Feed calls.
func replay(t testing.TB, engine string, chunks []testdb.Chunk, rng *rand.Rand) ([]Record, *Tracker) {
	t.Helper()
	tr, err := NewTracker(Config{Engine: engine, Redactor: testRedactor(t)})
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for _, c := range chunks {
		dir := ServerToClient
		if c.FromClient {
			dir = ClientToServer
		}
		data := c.Data
		for len(data) > 0 {
			n := len(data)
			if rng != nil {
				n = 1 + rng.Intn(min(len(data), 1+rng.Intn(64)))
			}
			recs = append(recs, tr.Feed(dir, c.Time, data[:n])...)
			data = data[n:]
		}
	}
	recs = append(recs, tr.Close(time.Now())...)
	return recs, tr
}

func connChunks(chunks []testdb.Chunk, conn int) []testdb.Chunk {
	var out []testdb.Chunk
	for _, c := range chunks {
		if c.Conn == conn {
			out = append(out, c)
		}
	}
	return out
}

func saveFixture(t *testing.T, name string, chunks []testdb.Chunk) {
	b, err := json.MarshalIndent(chunks, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func loadFixture(t *testing.T, name string) []testdb.Chunk {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("reading fixture (regenerate with go test -run Live -update): %v", err)
	}
	var chunks []testdb.Chunk
	if err := json.Unmarshal(b, &chunks); err != nil {
		t.Fatal(err)
	}
	return chunks
}

func findRecord(t *testing.T, recs []Record, stmtPrefix string) Record {
	t.Helper()
	for _, r := range recs {
		if strings.HasPrefix(r.DB.Statement, stmtPrefix) {
			return r
		}
	}
	var have []string
	for _, r := range recs {
		have = append(have, r.DB.Statement)
	}
	t.Fatalf("no record with statement %q; have:\n%s", stmtPrefix, strings.Join(have, "\n"))
	return Record{}
}

func assertNoMarker(t *testing.T, recs []Record) {
	t.Helper()
	b, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(string(b)), strings.ToLower(marker)) {
		t.Fatalf("marker %s appears in records: %s", marker, b)
	}
}

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

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
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
	if r.DB.Rows != 1 || !contains(r.DB.Columns, "count") {
		t.Errorf("psql count: %+v", r.DB)
	}
	r = findRecord(t, recs, "SELECT nope FROM customers")
	if r.DB.ErrorCode != "42703" {
		t.Errorf("psql error: %+v", r.DB)
	}
}

func testdbBinary(t *testing.T, glob string) string {
	m, _ := filepath.Glob(glob)
	if len(m) == 0 {
		t.Skipf("%s not installed (CI installs it)", glob)
	}
	return m[len(m)-1]
}

func sameRecords(a, b []Record) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestPostgresLiveTLS checks that a TLS connection is marked encrypted and
// nothing is parsed from its ciphertext.
func TestPostgresLiveTLS(t *testing.T) {
	srv := testdb.StartPostgres(t, testdb.Options{TLS: true})
	px := testdb.StartProxy(t, srv.Addr())
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, strings.Replace(srv.DSN, srv.Addr(), px.Addr, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT 'MARKER-7f3a9'"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	px.Close()
	recs, tr := replay(t, EnginePostgres, connChunks(px.Chunks(), 0), nil)
	if !tr.Session().Encrypted || len(recs) != 0 {
		t.Fatalf("tls: session %+v records %+v", tr.Session(), recs)
	}
}

// truncate replays chunks with server chunks cut to limit bytes, as a sensor
// capturing only the first bytes of each recv would.
func truncatedReplay(t *testing.T, engine string, chunks []testdb.Chunk, limit int) ([]Record, *Tracker) {
	tr, err := NewTracker(Config{Engine: engine, Redactor: testRedactor(t)})
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for _, c := range chunks {
		dir := ServerToClient
		if c.FromClient {
			dir = ClientToServer
		}
		n := min(len(c.Data), limit)
		recs = append(recs, tr.FeedTruncated(dir, c.Time, c.Data[:n], len(c.Data))...)
	}
	return append(recs, tr.Close(time.Now())...), tr
}

// With truncated capture every statement is still reported; counts are exact
// where the server's count was captured and a lower bound (Partial) where not.
func TestPostgresTruncated(t *testing.T) {
	chunks := loadFixture(t, "postgres_session.json")
	full, _ := replay(t, EnginePostgres, chunks, nil)
	for _, limit := range []int{4096, 1024, 256} {
		recs, tr := truncatedReplay(t, EnginePostgres, chunks, limit)
		assertNoMarker(t, recs)
		if len(recs) != len(full) {
			t.Fatalf("limit %d: %d records, want %d", limit, len(recs), len(full))
		}
		for i, r := range recs {
			f := full[i]
			if r.DB.Statement != f.DB.Statement || r.DB.ErrorCode != f.DB.ErrorCode {
				t.Errorf("limit %d record %d: %q %q, want %q %q", limit, i, r.DB.Statement, r.DB.ErrorCode, f.DB.Statement, f.DB.ErrorCode)
			}
			if r.DB.Rows > f.DB.Rows || !r.Partial && r.DB.Rows != f.DB.Rows {
				t.Errorf("limit %d %q: rows %d partial %v, want %d", limit, r.DB.Statement, r.DB.Rows, r.Partial, f.DB.Rows)
			}
			if r.RowsFromServer && r.DB.Rows != f.DB.Rows {
				t.Errorf("limit %d %q: server rows %d, want %d", limit, r.DB.Statement, r.DB.Rows, f.DB.Rows)
			}
			if r.DB.Bytes != f.DB.Bytes && !r.Partial {
				t.Errorf("limit %d %q: bytes %d, want %d", limit, r.DB.Statement, r.DB.Bytes, f.DB.Bytes)
			}
		}
		t.Logf("limit %d: %+v", limit, tr.Stats())
	}
}

// A tracker started mid-connection reports the statements after it started.
func TestPostgresMidStream(t *testing.T) {
	chunks := loadFixture(t, "postgres_session.json")
	full, _ := replay(t, EnginePostgres, chunks, nil)
	for skip := 1; skip < len(chunks); skip++ {
		recs, _ := replay(t, EnginePostgres, chunks[skip:], nil)
		assertNoMarker(t, recs)
		// Every statement that started after the skip point is reported.
		first := chunks[skip].Time
		var want []string
		for _, f := range full {
			if f.Start.After(first) {
				want = append(want, f.DB.Statement)
			}
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.DB.Statement)
		}
		j := 0
		for _, g := range got {
			// "" is a statement prepared before the tracker started.
			if j < len(want) && (g == want[j] || g == "") {
				j++
			}
		}
		if j != len(want) {
			t.Errorf("skip %d: got %q, want to include %q", skip, got, want)
		}
	}
}

// Garbage before a connection's bytes, and SSLRequest answered N, are
// survived.
func TestPostgresGarbageAndSSLRefused(t *testing.T) {
	chunks := loadFixture(t, "postgres_session.json")
	full, _ := replay(t, EnginePostgres, chunks, nil)
	ssl := append([]testdb.Chunk{
		{FromClient: true, Time: chunks[0].Time, Data: []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}},
		{FromClient: false, Time: chunks[0].Time, Data: []byte{'N'}},
	}, chunks...)
	recs, tr := replay(t, EnginePostgres, ssl, nil)
	if !sameRecords(recs, full) || tr.Session().Encrypted {
		t.Errorf("SSLRequest refused: records differ or encrypted %v", tr.Session())
	}
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 50; i++ {
		junk := make([]byte, rng.Intn(5000))
		rng.Read(junk)
		g := append([]testdb.Chunk{{FromClient: rng.Intn(2) == 0, Time: chunks[0].Time, Data: junk}}, chunks[3:]...)
		recs, _ := replay(t, EnginePostgres, g, rand.New(rand.NewSource(int64(i))))
		if len(recs) < len(full)-3 {
			t.Errorf("after %d bytes of junk: %d records, want at least %d", len(junk), len(recs), len(full)-3)
		}
	}
}

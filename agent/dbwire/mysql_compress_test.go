package dbwire

import (
	"database/sql"
	"math/rand"
	"os/exec"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/internal/testdb"
)

// myCompressedQueries are what the mariadb client runs with --compress: a
// result large enough to span compressed packets, and an error.
const myCompressedQueries = "SELECT id, email FROM customers WHERE email <> 'MARKER-7f3a9@example.com'; " +
	"SELECT COUNT(*) FROM customers; SELECT nope FROM customers"

func checkMySQLCompressed(t *testing.T, recs []Record, tr *Tracker) {
	t.Helper()
	assertNoMarker(t, recs)
	if s := tr.Session(); s.GaveUp || s.User != "vigil" || s.Database != "vigil" {
		t.Errorf("session %+v, want vigil's on vigil, followed", s)
	}
	r := findRecord(t, recs, "SELECT id, email FROM customers WHERE email <> ?")
	if r.DB.Rows != 1234 || r.Partial {
		t.Errorf("compressed select: rows %d partial %v, want 1234 whole", r.DB.Rows, r.Partial)
	}
	if r.DB.Bytes < 1234*20 {
		t.Errorf("compressed select: %d bytes, want the uncompressed rows' (over %d)", r.DB.Bytes, 1234*20)
	}
	if r = findRecord(t, recs, "SELECT COUNT(*) FROM customers"); r.DB.Rows != 1 {
		t.Errorf("compressed count: %+v", r.DB)
	}
	if r = findRecord(t, recs, "SELECT nope FROM customers"); r.DB.ErrorCode != "1054" {
		t.Errorf("compressed error: %+v", r.DB)
	}
}

// The mariadb client with --compress (CLIENT_COMPRESS, zlib: MariaDB offers
// no zstd) is followed through its compressed packets.
func TestMySQLCompressedLive(t *testing.T) {
	srv := testdb.StartMariaDB(t, testdb.Options{})
	db, err := sql.Open("mysql", srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(100))",
		"INSERT INTO customers SELECT seq, CONCAT('user', seq, '@example.com') FROM seq_1_to_1234",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	px := testdb.StartProxy(t, srv.Addr())
	host, port, _ := strings.Cut(px.Addr, ":")
	out, err := exec.Command("mariadb", "--no-defaults", "--skip-ssl", "--compress", "-h", host, "-P", port, "-uvigil", "-pvigil",
		"vigil", "-e", myCompressedQueries).CombinedOutput()
	if err == nil {
		t.Fatalf("mariadb --compress: expected an error from the last statement:\n%s", out)
	}
	px.Close()
	chunks := connChunks(px.Chunks(), 0)
	recs, tr := replay(t, EngineMySQL, chunks, nil)
	checkMySQLCompressed(t, recs, tr)
	for seed := int64(1); seed <= 3; seed++ {
		if again, _ := replay(t, EngineMySQL, chunks, rand.New(rand.NewSource(seed))); !sameRecords(recs, again) {
			t.Errorf("seed %d: random chunking changed the records", seed)
		}
	}
	if *update {
		saveFixture(t, "mysql_compressed_session.json", chunks)
	}
}

func TestMySQLCompressedFixture(t *testing.T) {
	chunks := loadFixture(t, "mysql_compressed_session.json")
	recs, tr := replay(t, EngineMySQL, chunks, nil)
	checkMySQLCompressed(t, recs, tr)
	if again, _ := replay(t, EngineMySQL, chunks, rand.New(rand.NewSource(7))); !sameRecords(recs, again) {
		t.Error("random chunking changed the records")
	}
}

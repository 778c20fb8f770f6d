package dbwire

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/internal/testdb"
)

func TestMySQLLiveTLS(t *testing.T) {
	srv := testdb.StartMariaDB(t, testdb.Options{TLS: true})
	px := testdb.StartProxy(t, srv.Addr())
	db, err := sql.Open("mysql", strings.Replace(srv.DSN, srv.Addr(), px.Addr, 1))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT 1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	db.Close()
	px.Close()
	recs, tr := replay(t, EngineMySQL, connChunks(px.Chunks(), 0), nil)
	if !tr.Session().Encrypted || len(recs) != 0 {
		t.Fatalf("tls: session %+v records %+v", tr.Session(), recs)
	}
}

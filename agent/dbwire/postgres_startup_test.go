package dbwire

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vigilhq/vigil/internal/testdb"
)

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

// SSLRequest answered N is survived.
func TestPostgresSSLRefused(t *testing.T) {
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
}

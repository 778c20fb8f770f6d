package testdb

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// The servers start, accept the documented DSNs, and with TLS present a
// certificate that verifies against CertPEM.
func TestPostgres(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			s := StartPostgres(t, Options{TLS: useTLS})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cfg, err := pgx.ParseConfig(s.DSN)
			if err != nil {
				t.Fatal(err)
			}
			if useTLS {
				pool := x509.NewCertPool()
				pool.AppendCertsFromPEM(s.CertPEM)
				cfg.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
			}
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var ssl bool
			if err := conn.QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil {
				t.Fatal(err)
			}
			if ssl != useTLS {
				t.Fatalf("ssl = %v", ssl)
			}
		})
	}
}

func TestMariaDB(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			s := StartMariaDB(t, Options{TLS: useTLS})
			cfg, err := mysql.ParseDSN(s.DSN)
			if err != nil {
				t.Fatal(err)
			}
			if useTLS {
				pool := x509.NewCertPool()
				pool.AppendCertsFromPEM(s.CertPEM)
				cfg.TLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
			}
			conn, err := mysql.NewConnector(cfg)
			if err != nil {
				t.Fatal(err)
			}
			db := sql.OpenDB(conn)
			defer db.Close()
			var name, cipher string
			if err := db.QueryRow("SHOW STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil {
				t.Fatal(err)
			}
			if (cipher != "") != useTLS {
				t.Fatalf("Ssl_cipher = %q", cipher)
			}
		})
	}
}

package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

//go:embed postgres_schema.sql
var postgresSchema string

// postgresFirst is the schema version postgres_schema.sql makes: the
// newest when PostgreSQL stores began. Later migrations are added to both
// lists.
const postgresFirst = 9

// postgresMigrations are the migrations of a PostgreSQL store, numbered as
// SQLite's: the versions before postgresFirst change nothing in it.
var postgresMigrations = func() []string {
	m := make([]string, postgresFirst)
	m[postgresFirst-1] = postgresSchema
	return m
}()

// chainLockKey is the advisory lock every write transaction takes: the
// collector's writes, like SQLite's, go one at a time.
const chainLockKey = 0x76696769 // "vigi"

var postgresDialect = &dialect{
	name:       "postgres",
	migrations: postgresMigrations,
	version: func(ctx context.Context, q queryRower) (int, error) {
		// A query of a missing table would abort the transaction.
		var exists bool
		if err := q.QueryRowContext(ctx, `SELECT to_regclass('schema_version') IS NOT NULL`).Scan(&exists); err != nil || !exists {
			return 0, err
		}
		var v int
		err := q.QueryRowContext(ctx, `SELECT COALESCE(max(version), 0) FROM schema_version`).Scan(&v)
		return v, err
	},
	setVersion: func(ctx context.Context, tx *sql.Tx, v int) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (`+fmt.Sprint(v)+`)`)
		return err
	},
	putEventReturning: " RETURNING n",
	lock:              fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, chainLockKey),
	eachIdent:         `jsonb_array_elements_text(idents::jsonb) h(value)`,
	snapshot:          &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead},
}

// openPostgres opens the PostgreSQL database dsn names; readOnly makes
// every transaction of its sessions read-only.
func openPostgres(dsn string, readOnly bool) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parsing the store URL %s: %w", redactDSN(dsn), err)
	}
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	return sql.OpenDB(rebindConnector{stdlib.GetConnector(*cfg)}), nil
}

// redactDSN is dsn without its password, for messages.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(an unparsable postgres:// URL)"
	}
	return u.Redacted()
}

// rebindConnector makes connections that take the store's ? placeholders
// and hand PostgreSQL its $1, $2, ...
type rebindConnector struct{ driver.Connector }

func (c rebindConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(*stdlib.Conn)
	if !ok {
		conn.Close()
		return nil, errors.New("opening the store: pgx returned an unexpected connection type")
	}
	return &rebindConn{pc}, nil
}

// rebindConn is a pgx connection whose statements are rebound; every
// other method is pgx's.
type rebindConn struct{ *stdlib.Conn }

func (c *rebindConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(rebind(query))
}

func (c *rebindConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebind(query))
}

func (c *rebindConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, rebind(query), args)
}

func (c *rebindConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, rebind(query), args)
}

// rebind numbers the ? placeholders of query outside quotes and comments.
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		switch ch := query[i]; {
		case ch == '\'' || ch == '"':
			j := strings.IndexByte(query[i+1:], ch)
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+2])
			i += j + 1
		case ch == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+1])
			i += j
		case ch == '?':
			n++
			fmt.Fprintf(&b, "$%d", n)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

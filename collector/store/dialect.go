package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// dialect is what differs between the two databases a store may live in:
// how it is opened, its schema and version, and the few statements whose
// SQL is not common to both. Every other query is written once, with ?
// placeholders, in SQL that both accept.
type dialect struct {
	name string
	// migrations make the schema version i+1 from i; "" is a version
	// that changed nothing in this database.
	migrations []string
	// version reads the schema version; setVersion records it.
	version    func(ctx context.Context, q queryRower) (int, error)
	setVersion func(ctx context.Context, tx *sql.Tx, v int) error
	// lock serialises write transactions, so that the chain head read
	// once per transaction stays the head ("" when BEGIN already does).
	lock string
	// eachIdent is the FROM item yielding h.value for each identifier
	// hash of an events row's idents (a JSON list of strings).
	eachIdent string
	// putEventReturning ends the event insert: " RETURNING n" where the
	// driver has no LastInsertId, "" where it does (SQLite, whose insert
	// then skips reading a row: the hot path of every batch).
	putEventReturning string
	// snapshot is how verify reads every table in one snapshot.
	snapshot *sql.TxOptions
}

// queryRower runs a query returning one row, on a database or a
// transaction.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var sqliteDialect = &dialect{
	name:       "sqlite",
	migrations: migrations,
	version: func(ctx context.Context, q queryRower) (int, error) {
		var v int
		err := q.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v)
		return v, err
	},
	setVersion: func(ctx context.Context, tx *sql.Tx, v int) error {
		// PRAGMA takes no parameters; the version is this package's number.
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v))
		return err
	},
	eachIdent: `json_each(idents) h`,
	snapshot:  &sql.TxOptions{ReadOnly: true},
}

// TargetName is a store target as messages show it: a postgres:// URL
// without its password.
func TargetName(target string) string {
	if isPostgres(target) {
		return redactDSN(target)
	}
	return target
}

// isPostgres says whether a store target names a PostgreSQL database
// (a postgres:// URL) rather than a SQLite file.
func isPostgres(target string) bool {
	return strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://")
}

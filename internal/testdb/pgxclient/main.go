// Command pgxclient is a Go PostgreSQL client for tests of Go TLS capture:
// pgx over crypto/tls, the way Go tools reach a database.
//
//	pgxclient DSN READY STATEMENT...
//
// Unless READY is "-", it writes a line to the file READY and waits for a
// line on standard input before it connects. It runs each statement and
// prints the first column of its rows.
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pgxclient:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) < 3 {
		return fmt.Errorf("usage: pgxclient DSN READY STATEMENT...")
	}
	if ready := os.Args[2]; ready != "-" {
		if err := os.WriteFile(ready, []byte("started\n"), 0o644); err != nil {
			return err
		}
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return fmt.Errorf("waiting for the go-ahead: %w", err)
		}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Args[1])
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if conn.PgConn().Conn() == nil {
		return fmt.Errorf("no connection")
	}
	for _, stmt := range os.Args[3:] {
		rows, err := conn.Query(ctx, stmt, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return err
			}
			if len(vals) > 0 {
				fmt.Println(vals[0])
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}

// gotlsclient runs one query over TLS with Go's own TLS stack, which no
// libssl probe sees: the agent must report the connection as a db.session
// marked encrypted rather than miss it. With a second argument "hold" it
// then keeps the connection open until its standard input closes.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/jackc/pgx/v5"
)

func main() {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_class").Scan(&n); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(os.Args) > 2 && os.Args[2] == "hold" {
		fmt.Println("connected")
		_, _ = io.Copy(io.Discard, os.Stdin)
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_class").Scan(&n); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	conn.Close(ctx)
}

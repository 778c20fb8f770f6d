// gotlsclient runs one query over TLS that no probe reads: Go's own TLS
// stack, whose bytes reach the socket through a relay goroutine, so no
// socket call is made inside a crypto/tls call to tie the two (as a program
// that tunnels its TLS through a pipe does). The agent must report the
// connection as a db.session marked encrypted rather than miss it. With a
// second argument "hold" it then keeps the connection open until its
// standard input closes.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/jackc/pgx/v5"
)

func main() {
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg.DialFunc = relayDial
	conn, err := pgx.ConnectConfig(ctx, cfg)
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

// relayDial connects to addr and returns one end of an in-memory pipe whose
// bytes goroutines of their own copy to and from the socket.
func relayDial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	sock, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	app, relay := net.Pipe()
	go func() {
		_, _ = io.Copy(sock, relay)
		sock.Close()
	}()
	go func() {
		_, _ = io.Copy(relay, sock)
		relay.Close()
	}()
	return app, nil
}

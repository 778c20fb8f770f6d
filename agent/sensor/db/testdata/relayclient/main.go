// Command relayclient is a Go PostgreSQL client whose TLS bytes reach the
// socket from goroutines of their own, as a tunnel or multiplexer has them:
// pgx runs crypto/tls over a net.Conn whose Write hands the bytes to a
// writer goroutine and whose Read takes what a reader goroutine read.
//
//	relayclient DSN STATEMENT...
//
// It runs each statement and prints the first column of its rows.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "relayclient:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) < 2 {
		return fmt.Errorf("usage: relayclient DSN STATEMENT...")
	}
	cfg, err := pgx.ParseConfig(os.Args[1])
	if err != nil {
		return err
	}
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		sock, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return newRelay(sock), nil
	}
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, stmt := range os.Args[2:] {
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

// relay is a net.Conn whose socket is written and read only by its own
// goroutines, each locked to a thread of its own, so that no socket call is
// made by the goroutine (or thread) of the crypto/tls call.
type relay struct {
	writes  chan []byte
	written chan error
	in      *io.PipeReader
	sock    net.Conn
}

func newRelay(sock net.Conn) *relay {
	pr, pw := io.Pipe()
	r := &relay{writes: make(chan []byte), written: make(chan error), in: pr, sock: sock}
	go func() {
		runtime.LockOSThread()
		for b := range r.writes {
			_, err := sock.Write(b)
			r.written <- err
		}
	}()
	go func() {
		runtime.LockOSThread()
		buf := make([]byte, 32<<10)
		for {
			n, err := sock.Read(buf)
			if n > 0 {
				if _, werr := pw.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return r
}

func (r *relay) Write(b []byte) (int, error) {
	r.writes <- append([]byte(nil), b...)
	if err := <-r.written; err != nil {
		return 0, err
	}
	return len(b), nil
}

func (r *relay) Read(b []byte) (int, error) { return r.in.Read(b) }

func (r *relay) Close() error {
	err := r.sock.Close()
	r.in.Close()
	return err
}

func (r *relay) LocalAddr() net.Addr  { return r.sock.LocalAddr() }
func (r *relay) RemoteAddr() net.Addr { return r.sock.RemoteAddr() }

func (r *relay) SetDeadline(t time.Time) error      { return r.sock.SetDeadline(t) }
func (r *relay) SetReadDeadline(t time.Time) error  { return r.sock.SetReadDeadline(t) }
func (r *relay) SetWriteDeadline(t time.Time) error { return r.sock.SetWriteDeadline(t) }

package dbconn

import (
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/dbwire"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/agent/sensor/db"
)

// The server end of a local connection is left to its client end only once
// the client end reads the session, and matched across IPv4-mapped
// addresses; muting is asked for once, and forgotten at close.
func TestPeersLeaveServerEndToReadableClient(t *testing.T) {
	var muted []db.Conn
	p := newPeers(func(end db.Conn) error { muted = append(muted, end); return nil }, slog.Default().Warn)
	ap := netip.MustParseAddrPort
	client := &conn{side: "client", end: db.Conn{Sock: 1, Local: ap("127.0.0.1:40000"), Remote: ap("127.0.0.1:5432")}}
	server := &conn{side: "server", end: db.Conn{Sock: 2, Local: ap("[::ffff:127.0.0.1]:5432"), Remote: ap("[::ffff:127.0.0.1]:40000")}}
	other := &conn{side: "server", end: db.Conn{Sock: 3, Local: ap("127.0.0.1:5432"), Remote: ap("127.0.0.1:40001")}}
	for _, c := range []*conn{client, server, other} {
		c.setEnds(nil)
	}
	if p.leave(server) {
		t.Fatal("server end left before its client end was seen")
	}
	p.added(client)
	p.added(server)
	if p.leave(server) {
		t.Fatal("server end left before the client end read the startup")
	}
	red, err := redact.New(redact.Config{Key: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := dbwire.NewTracker(dbwire.Config{Engine: dbwire.EnginePostgres, Redactor: red})
	if err != nil {
		t.Fatal(err)
	}
	client.plain = tr
	tr.Feed(dbwire.ClientToServer, time.Now(), []byte("\x00\x00\x00\x14\x00\x03\x00\x00user\x00alice\x00\x00"))
	for range 2 {
		if !p.leave(server) {
			t.Fatal("server end of a readable local client not left to it")
		}
	}
	if p.leave(other) {
		t.Error("a server end with no followed client end was left")
	}
	if p.leave(client) {
		t.Error("a client end was left")
	}
	// The kernel checks the end's ports before muting (a closed socket's
	// address may be another's): the server end's own are passed.
	if len(muted) != 1 || muted[0].Sock != 2 || muted[0].Local.Port() != 5432 || muted[0].Remote.Port() != 40000 || p.mutes != 1 {
		t.Errorf("muted %+v (count %d), want socket 2 (5432 <- 40000) once", muted, p.mutes)
	}
	p.removed(client)
	p.removed(server)
	if len(p.clients) != 0 || len(p.muted) != 0 {
		t.Errorf("state left after close: %d clients, %d muted", len(p.clients), len(p.muted))
	}
}

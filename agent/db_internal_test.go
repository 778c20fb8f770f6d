package agent

import (
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/dbwire"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/agent/sensor/db"
)

// A new connection's side and protocol come from a configured port, else
// from who sent its first bytes and what they were.
func TestNewConnSideAndEngine(t *testing.T) {
	c := newDBConns(DBOptions{Ports: []uint16{5432, 3306}}, slog.Default())
	pgStartup := []byte("\x00\x00\x00\x17\x00\x03\x00\x00user\x00alice\x00\x00")
	myGreeting := append([]byte{30, 0, 0, 0, 10}, []byte("11.4.2-MariaDB\x00")...)
	myGreeting = append(myGreeting, make([]byte, 20)...)
	conn := func(lport, rport uint16) db.Conn {
		return db.Conn{Local: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), lport),
			Remote: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.3"), rport)}
	}
	cases := []struct {
		name         string
		d            db.Data
		side, engine string
	}{
		{"client to configured port", db.Data{Conn: conn(40000, 5432), Sent: true, Data: []byte("Q\x00")}, "client", dbwire.EnginePostgres},
		{"server on configured port", db.Data{Conn: conn(3306, 40000), Sent: false, Data: []byte{1, 0, 0, 0, 3}}, "server", dbwire.EngineMySQL},
		{"postgres client, other port", db.Data{Conn: conn(40000, 6432), Sent: true, Data: pgStartup}, "client", dbwire.EnginePostgres},
		{"postgres server, other port", db.Data{Conn: conn(6432, 40000), Sent: false, Data: pgStartup}, "server", dbwire.EnginePostgres},
		{"mysql client, other port", db.Data{Conn: conn(40000, 3307), Sent: false, Data: myGreeting}, "client", dbwire.EngineMySQL},
		{"mysql server, other port", db.Data{Conn: conn(3307, 40000), Sent: true, Data: myGreeting}, "server", dbwire.EngineMySQL},
	}
	for _, tc := range cases {
		got := c.newConn(&tc.d)
		if got.side != tc.side || got.engine != tc.engine {
			t.Errorf("%s: side %q engine %q, want %q %q", tc.name, got.side, got.engine, tc.side, tc.engine)
		}
	}
}

// The server end of a local connection is left to its client end only once
// the client end reads the session, and matched across IPv4-mapped
// addresses; muting is asked for once, and forgotten at close.
func TestPeersLeaveServerEndToReadableClient(t *testing.T) {
	var muted []db.Conn
	p := newDBPeers(func(end db.Conn) error { muted = append(muted, end); return nil }, slog.Default().Warn)
	ap := netip.MustParseAddrPort
	client := &dbConn{side: "client", end: db.Conn{Sock: 1, Local: ap("127.0.0.1:40000"), Remote: ap("127.0.0.1:5432")}}
	server := &dbConn{side: "server", end: db.Conn{Sock: 2, Local: ap("[::ffff:127.0.0.1]:5432"), Remote: ap("[::ffff:127.0.0.1]:40000")}}
	other := &dbConn{side: "server", end: db.Conn{Sock: 3, Local: ap("127.0.0.1:5432"), Remote: ap("127.0.0.1:40001")}}
	for _, c := range []*dbConn{client, server, other} {
		c.setEnds()
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
	if !p.leave(server) || !p.leave(server) {
		t.Fatal("server end of a readable local client not left to it")
	}
	if p.leave(other) {
		t.Error("a server end with no followed client end was left")
	}
	if p.leave(client) {
		t.Error("a client end was left")
	}
	// The kernel checks the end's ports before muting (a closed socket's
	// address may be another's): the server end's own are passed.
	if len(muted) != 1 || muted[0].Sock != 2 || muted[0].Local.Port() != 5432 || muted[0].Remote.Port() != 40000 || p.Muted != 1 {
		t.Errorf("muted %+v (count %d), want socket 2 (5432 <- 40000) once", muted, p.Muted)
	}
	p.removed(client)
	p.removed(server)
	if len(p.clients) != 0 || len(p.muted) != 0 {
		t.Errorf("state left after close: %d clients, %d muted", len(p.clients), len(p.muted))
	}
}

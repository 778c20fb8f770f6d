package dbconn

import (
	"net/netip"
	"testing"

	"github.com/vigilhq/vigil/agent/dbwire"
	"github.com/vigilhq/vigil/agent/sensor/db"
)

// A new connection's side and protocol come from a configured port, else
// from who sent its first bytes and what they were.
func TestNewConnSideAndEngine(t *testing.T) {
	ports := map[uint16]bool{5432: true, 3306: true}
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
		got := newConn(ports, &tc.d, nil)
		if got.side != tc.side || got.engine != tc.engine {
			t.Errorf("%s: side %q engine %q, want %q %q", tc.name, got.side, got.engine, tc.side, tc.engine)
		}
	}
}

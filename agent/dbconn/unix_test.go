package dbconn

import (
	"math/rand"
	"os"
	"testing"

	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/event"
)

const pgSocket = "/run/postgresql/.s.PGSQL.5432"

// unixRecords turns captures into the records of one end of a Unix-domain
// connection: socket sock with inode ino, whose other end is socket peer.
func unixRecords(t testing.TB, end db.Conn, server bool, caps ...dbwiretest.Capture) []*db.Data {
	pid := uint32(os.Getpid())
	now := boottime(t)
	var out []*db.Data
	for i, c := range caps {
		out = append(out, &db.Data{
			Header: sensor.Header{Type: db.RecData, PID: pid, TID: pid, TS: now + uint64(i+1)*1000, Comm: "psql"},
			Conn:   end, Len: len(c.Data), Data: c.Data, Sent: c.FromClient != server,
		})
	}
	return out
}

// A Unix-domain connection is named by its server's socket path and its
// client socket's inode, from either end; its server end is left to its
// client end like a TCP one's; and a new socket at a closed one's address
// (a close no tracepoint shows) starts afresh instead of inheriting it.
func TestUnixConnection(t *testing.T) {
	var mutes []db.Conn
	c := newConns(t, Options{Mute: func(end db.Conn) error { mutes = append(mutes, end); return nil }})
	clientEnd := db.Conn{Sock: 1, Ino: 11, Peer: 2}
	serverEnd := db.Conn{Sock: 2, Ino: 12, Peer: 1}
	c.Unix(&db.UnixEnds{Conn: clientEnd, PeerPath: pgSocket, PeerIno: 12})
	c.Unix(&db.UnixEnds{Conn: serverEnd, Path: pgSocket, PeerIno: 11})
	xs := captures(dbwiretest.PgStartup("alice", "shop"), dbwiretest.PgbenchSimple(rand.New(rand.NewSource(1)), 1)[0])
	client, server := unixRecords(t, clientEnd, false, xs...), unixRecords(t, serverEnd, true, xs...)
	var evs []*event.Event
	for i := range client {
		evs = append(evs, c.Data(client[i])...)
		evs = append(evs, c.Data(server[i])...)
	}
	if len(evs) != 1 {
		t.Fatalf("%d events for one statement seen from both ends, want 1", len(evs))
	}
	d := evs[0].DB
	if d.Side != "client" || d.Server != pgSocket || d.Client != "socket:[11]" || d.User != "alice" {
		t.Errorf("statement = %+v, want alice's from the client end, server %s, client socket:[11]", d, pgSocket)
	}
	if len(mutes) != 1 || mutes[0] != serverEnd {
		t.Errorf("muted %+v, want the server end %+v once", mutes, serverEnd)
	}

	// The server end alone (its client end unreadable, say) names the same
	// ends.
	lone := newConns(t, Options{})
	lone.Unix(&db.UnixEnds{Conn: serverEnd, Path: pgSocket, PeerIno: 11})
	evs = feed(lone, server)
	if len(evs) != 1 || evs[0].DB.Side != "server" || evs[0].DB.Server != pgSocket || evs[0].DB.Client != "socket:[11]" {
		t.Errorf("server end alone reported %d events, first %+v; want the statement naming %s and socket:[11]", len(evs), evs[0].DB, pgSocket)
	}

	// Socket 1's address taken by a new client socket, its close unseen: the
	// new connection's startup is read as a startup, for bob.
	reused := db.Conn{Sock: 1, Ino: 21, Peer: 3}
	c.Unix(&db.UnixEnds{Conn: reused, PeerPath: pgSocket, PeerIno: 22})
	evs = feed(c, unixRecords(t, reused, false, captures(dbwiretest.PgStartup("bob", "shop"),
		dbwiretest.PgbenchSimple(rand.New(rand.NewSource(2)), 1)[0])...))
	if len(evs) != 1 || evs[0].DB.User != "bob" || evs[0].DB.Client != "socket:[21]" {
		t.Fatalf("after the address was reused: %d events, first %+v; want bob's statement on socket:[21]", len(evs), evs)
	}
	// The old connection's close, reported late, leaves the new one be.
	if out := c.Close(&db.Close{Conn: db.Conn{Sock: clientEnd.Sock, Ino: clientEnd.Ino}}); len(out) != 0 || c.conns[1] == nil || c.conns[1].end != reused {
		t.Errorf("the old socket's close ended the new connection (%d events)", len(out))
	}
	// A sweep finds the new one closed; a record of it read after that
	// does not start it again.
	c.Close(&db.Close{Conn: db.Conn{Sock: reused.Sock, Ino: reused.Ino}})
	if evs := feed(c, unixRecords(t, reused, false, dbwiretest.PgbenchSimple(rand.New(rand.NewSource(3)), 1)[0].Request)); len(evs) != 0 || c.conns[1] != nil {
		t.Errorf("a closed socket's late record made %d events and a connection %v", len(evs), c.conns[1] != nil)
	}
}

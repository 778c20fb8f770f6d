package dbconn

import (
	"fmt"
	"time"

	"github.com/vigilhq/vigil/agent/dbwire"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
)

// conn is one end of a database connection as this host sees it.
type conn struct {
	end        db.Conn // the socket (the kernel's address: the connection's id) and its ends
	side       string  // client or server
	engine     string
	client     string          // ip:port of the client end, for events (a Unix socket's: see setEnds)
	server     string          // ip:port of the server end (a Unix socket's path)
	key        peerKey         // both ends, as peers matches them
	plain      *dbwire.Tracker // socket bytes
	tls        *dbwire.Tracker // TLS library plaintext
	last       time.Time
	header     sensor.Header // the last process seen on it
	opaque     opaque        // reports of an end whose statements cannot be read
	sslChecked bool          // the process was searched for its own libssl
}

// newConn works out a new connection's side and protocol: from the
// configured server port when one end has it, else from its first bytes
// (a PostgreSQL client and a MySQL server speak first). names are a Unix
// socket's ends (nil for TCP, or when the kernel could not send them).
func newConn(ports map[uint16]bool, d *db.Data, names *db.UnixEnds) *conn {
	c := &conn{end: d.Conn}
	var serverPort uint16
	switch {
	case ports[d.Conn.Remote.Port()]:
		c.side, serverPort = "client", d.Conn.Remote.Port()
	case ports[d.Conn.Local.Port()]:
		c.side, serverPort = "server", d.Conn.Local.Port()
	}
	switch serverPort {
	case 5432:
		c.engine = dbwire.EnginePostgres
	case 3306:
		c.engine = dbwire.EngineMySQL
	}
	if c.engine != "" && c.side != "" {
		c.setEnds(names)
		return c
	}
	detected, serverSpoke := false, false
	if engine, ok := dbwire.DetectServer(d.Data); ok {
		c.engine, detected, serverSpoke = engine, true, true
	} else if engine, ok := dbwire.Detect(d.Data); ok {
		c.engine, detected = engine, true
	}
	if c.side == "" && detected {
		// This process sent the first bytes: it is the server if they were a
		// greeting, the client if they were a startup or handshake response.
		if d.Sent == serverSpoke {
			c.side = "server"
		} else {
			c.side = "client"
		}
	}
	if c.engine == "" {
		c.engine = dbwire.EnginePostgres // joined mid-stream on an unknown port
	}
	if c.side == "" {
		c.side = "client"
	}
	c.setEnds(names)
	return c
}

// setEnds works out which address is the client's and which the server's
// once, rather than per event or per record. A Unix socket's server is its
// path, and its client the client socket's inode as ss -x and
// /proc/<pid>/fd show it ("socket:[12345]"), which both ends can name.
func (c *conn) setEnds(names *db.UnixEnds) {
	if c.end.Unix() {
		var path string
		clientIno, clientSock, serverSock := c.end.Ino, c.end.Sock, c.end.Peer
		if names != nil {
			path = names.PeerPath
		}
		if c.side != "client" {
			clientIno, clientSock, serverSock = 0, c.end.Peer, c.end.Sock
			if names != nil {
				path, clientIno = names.Path, names.PeerIno
			}
		}
		if path == "" {
			path = "unix"
		}
		c.server, c.client = path, fmt.Sprintf("socket:[%d]", clientIno)
		c.key = peerKey{clientSock: clientSock, serverSock: serverSock}
		return
	}
	client, server := c.end.Local, c.end.Remote
	if c.side != "client" {
		client, server = server, client
	}
	c.client, c.server = client.String(), server.String()
	c.key = peerKey{client: unmap(client), server: unmap(server)}
}

// tracker returns the tracker for d's bytes, starting it on first use.
func (c *conn) tracker(d *db.Data, cfg dbwire.Config) (*dbwire.Tracker, error) {
	t := &c.plain
	if d.TLS {
		t = &c.tls
	}
	if *t == nil {
		tr, err := dbwire.NewTracker(cfg)
		if err != nil {
			return nil, err
		}
		*t = tr
	}
	return *t, nil
}

// direction says which way d's bytes went on the connection.
func (c *conn) direction(d *db.Data) dbwire.Direction {
	if d.Sent == (c.side == "server") {
		return dbwire.ServerToClient
	}
	return dbwire.ClientToServer
}

// unobservedTLS says the connection went TLS and no probe read its
// plaintext: its statements cannot be read.
func (c *conn) unobservedTLS() bool {
	return c.plain != nil && c.plain.Session().Encrypted && c.tls == nil
}

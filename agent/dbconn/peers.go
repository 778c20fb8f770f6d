package dbconn

import (
	"net/netip"

	"github.com/vigilhq/vigil/agent/dbwire"
	"github.com/vigilhq/vigil/agent/sensor/db"
)

// A database host whose own users run clients against it (psql on the
// server, a reporting job beside it) sees every such connection twice: the
// client's end and the server's end, each with every statement. The client
// end is the one worth keeping: it names the person. peers finds the
// server end of a connection whose client end this agent already reads, and
// mutes it in the kernel, so each statement is captured, parsed, redacted
// and published once. A server end whose client end cannot be read (a
// statically linked TLS client) keeps being reported from the server.
type peers struct {
	// clients are the client ends being followed, by their addresses.
	clients map[peerKey]*conn
	// muted are the server ends left to their client end, by socket.
	muted map[uint64]bool
	// mute stops capture of a connection end in the kernel (the db
	// sensor's Mute).
	mute func(end db.Conn) error
	// mutes counts server ends muted since start.
	mutes   uint64
	warned  bool
	logWarn func(msg string, args ...any)
}

// peerKey names a TCP connection by its client and server addresses,
// IPv4-mapped addresses unmapped, and a Unix-domain one by its client and
// server sockets (struct sock addresses), so both ends compute the same key.
type peerKey struct {
	client, server         netip.AddrPort
	clientSock, serverSock uint64
}

func unmap(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) }

func newPeers(mute func(db.Conn) error, warn func(string, ...any)) *peers {
	return &peers{clients: map[peerKey]*conn{}, muted: map[uint64]bool{}, mute: mute, logWarn: warn}
}

// added records a new connection end.
func (p *peers) added(c *conn) {
	if c.side == "client" {
		p.clients[c.key] = c
	}
}

// removed forgets a connection end that closed or went idle.
func (p *peers) removed(c *conn) {
	delete(p.muted, c.end.Sock)
	if c.side == "client" && p.clients[c.key] == c {
		delete(p.clients, c.key)
	}
}

// leave says whether the bytes of connection end c are left to its
// other end: true for a server end whose client end is followed and
// readable, which it then mutes in the kernel.
func (p *peers) leave(c *conn) bool {
	if c.side != "server" {
		return false
	}
	if p.muted[c.end.Sock] {
		return true
	}
	cl := p.clients[c.key]
	if cl == nil || !(readable(cl.tls) || readable(cl.plain)) {
		return false
	}
	p.muted[c.end.Sock] = true
	p.mutes++
	if p.mute != nil {
		if err := p.mute(c.end); err != nil && !p.warned {
			p.warned = true
			p.logWarn("could not stop capturing the server end of a local database connection; its bytes are read and dropped", "err", err)
		}
	}
	return true
}

// readable says whether a client end's tracker reads the session: it has
// parsed the startup (so the user is known) in plaintext and is in step.
// Until then, and for a client whose TLS no probe reads, the server end
// stays.
func readable(t *dbwire.Tracker) bool {
	if t == nil {
		return false
	}
	s := t.Session()
	return s.User != "" && s.Synced && !s.Encrypted && !s.GaveUp
}

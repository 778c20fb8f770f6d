package dbwire

import (
	"encoding/binary"
	"strings"
	"time"
)

// PostgreSQL message framing.
const (
	pgMaxMessage = 1 << 30
	pgHeaderLen  = 5
)

type pgPhase uint8

const (
	pgStart     pgPhase = iota // nothing seen yet
	pgStartup                  // expecting a startup packet from the client
	pgAwaitTLS                 // SSLRequest or GSSENCRequest sent: one byte answer due
	pgNormal                   // typed messages both ways
	pgEncrypted                // TLS or GSS: nothing more to read
)

// pgStmt is a prepared statement (Parse).
type pgStmt struct {
	sql     string
	oids    []uint32
	columns []string
}

// pgPortal is a bound statement (Bind).
type pgPortal struct {
	stmt    *pgStmt
	formats []int16
	params  [][]byte // nil entry is NULL
}

// pgOp is a request whose response is still due, in order.
type pgOp struct {
	kind   byte // Q simple query, P parse, B bind, E execute, D describe, C close, S sync
	start  time.Time
	parts  []string // Q: the statements of the query string
	idx    int      // Q: current statement
	failed bool     // Q: an error ended it
	cur    *pgExec  // Q or E: the statement in progress
	exec   pgExec   // what cur points to, allocated with the request
	stmt   *pgStmt  // P, D (statement)
	portal *pgPortal
	chunk  uint64 // client capture it came in
}

// pgExec accumulates one statement's response.
type pgExec struct {
	start   time.Time
	sql     string
	portal  *pgPortal
	rows    uint64
	bytes   uint64
	columns []string
	partial bool
}

type postgres struct {
	t       *Tracker
	client  reader
	server  reader
	phase   pgPhase
	stmts   map[string]*pgStmt
	portals map[string]*pgPortal
	ops     []*pgOp
	// ncols is the column count of the last RowDescription (-1: none yet).
	ncols int
	// probe holds the first client bytes until there are enough to tell a
	// startup packet.
	probe []byte
	chunk uint64 // client captures seen
}

func newPostgres(t *Tracker) *postgres {
	p := &postgres{t: t, stmts: map[string]*pgStmt{}, portals: map[string]*pgPortal{}, ncols: -1}
	p.client = reader{dir: ClientToServer, t: t, f: p}
	p.server = reader{dir: ServerToClient, t: t, f: p}
	return p
}

func (p *postgres) feed(dir Direction, ts time.Time, data []byte, missing int) {
	if p.phase == pgStart && len(p.probe) > 0 && dir != ClientToServer {
		// The server spoke before the client's first bytes were enough to
		// tell: decide on what there is.
		pr := p.probe
		p.probe = nil
		p.feedStart(ClientToServer, ts, pr, 0)
	}
	if p.phase == pgStart && dir == ClientToServer && missing == 0 && len(p.probe)+len(data) < 8 {
		// Too little to tell a startup packet: wait for more.
		p.probe = append(p.probe, data...)
		return
	}
	if len(p.probe) > 0 {
		data = append(p.probe, data...)
		p.probe = nil
	}
	p.feedStart(dir, ts, data, missing)
}

func (p *postgres) feedStart(dir Direction, ts time.Time, data []byte, missing int) {
	if p.phase == pgStart {
		switch {
		case dir == ClientToServer && len(data) >= 8 && pgStartupPacket(data):
			p.phase = pgStartup
		case dir == ClientToServer && tlsClientHello(data):
			// PostgreSQL 17's sslnegotiation=direct: TLS from the first byte.
			p.phase = pgEncrypted
			p.t.encrypted(ReasonDirectTLS)
			return
		default:
			// Started mid-connection: find boundaries in both directions.
			p.phase = pgNormal
			p.client.lost = true
			p.server.lost = true
		}
		p.t.sess.Synced = !p.client.lost
	}
	if dir == ClientToServer {
		p.chunk++
		p.client.feed(ts, data, missing)
	} else {
		p.server.feed(ts, data, missing)
	}
	p.t.sess.Synced = !p.client.lost && !p.server.lost
}

func (p *postgres) headerLen(dir Direction) int {
	switch p.phase {
	case pgStartup:
		if dir == ClientToServer {
			return pgStartupHdr
		}
		return 0 // the server says nothing before the startup packet
	case pgAwaitTLS:
		if dir == ServerToClient {
			return 1
		}
		return 0
	}
	return pgHeaderLen
}

func (p *postgres) bodyLen(dir Direction, hdr []byte) (int, int, bool) {
	max := p.t.cfg.MaxMessage
	switch p.phase {
	case pgStartup:
		n := int(binary.BigEndian.Uint32(hdr))
		if n < 8 || n > pgMaxStartup {
			return 0, 0, false
		}
		return n - 4, n - 4, true
	case pgAwaitTLS:
		return 0, 0, hdr[0] == 'S' || hdr[0] == 'N' || hdr[0] == 'G'
	}
	n := int(binary.BigEndian.Uint32(hdr[1:]))
	if n < 4 || n > pgMaxMessage || !pgValidType(dir, hdr[0]) {
		return 0, 0, false
	}
	n -= 4
	switch hdr[0] {
	case 'D':
		if dir == ServerToClient {
			return n, min(n, 2), true // column count, for resync checks
		}
	case 'd':
		return n, 0, true
	case 'Z':
		if n != 1 {
			return 0, 0, false
		}
	}
	return n, min(n, max), true
}

func pgValidType(dir Direction, c byte) bool {
	if dir == ClientToServer {
		return strings.IndexByte("QPBEDCSHXdcfFp", c) >= 0
	}
	return strings.IndexByte("RSKZTDCEN123nstIGHWdcAvV", c) >= 0
}

func (p *postgres) message(dir Direction, start, end time.Time, hdr, body []byte, n int, complete bool) {
	switch p.phase {
	case pgStartup:
		p.startup(body)
		return
	case pgAwaitTLS:
		p.encryptionAnswer(hdr[0])
		return
	}
	if dir == ClientToServer {
		p.clientMessage(start, hdr[0], body, complete)
	} else {
		p.serverMessage(end, hdr[0], body, pgHeaderLen+n, complete)
	}
}

package agent

import (
	"log/slog"
	"time"

	"github.com/vigilhq/vigil/agent/dbwire"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/event"
)

// DBOptions configure how database connections become events.
type DBOptions struct {
	// Ports are database server ports; they say which end is the server.
	Ports []uint16
	// Redactor redacts captured SQL, and SQL and passwords on command lines.
	// Nil turns redaction off: set it.
	Redactor *redact.Redactor
	// LibSSLCheck, if set, is called with the pid of a process whose
	// connection turned out to be TLS that no probed libssl showed, so the
	// sensor can look for the process's own libssl.
	LibSSLCheck func(pid uint32)
	// Mute, if set, stops the kernel capturing a connection (the db
	// sensor's Mute): the server end of a local connection whose client end
	// the agent reads is then left to the client end (see dbPeers).
	Mute func(end db.Conn) error
	// BothEnds reports local connections from both ends, each statement
	// twice (as before dbPeers); for tests that check the server side.
	BothEnds bool
	// FoldWindow folds repeats of a statement on a connection into one
	// db.query per window (see dbFolds). Zero reports every run.
	FoldWindow time.Duration
}

// dbIdle is how long a connection may be silent before its tracker is
// dropped (the kernel reports closes; this bounds what a missed close costs).
const dbIdle = 15 * time.Minute

// dbConn is one end of a database connection as this host sees it.
type dbConn struct {
	end        db.Conn // the socket (the kernel's address: the connection's id) and its ends
	side       string  // client or server
	engine     string
	client     string          // ip:port of the client end, for events
	server     string          // ip:port of the server end
	key        peerKey         // both ends, as dbPeers matches them
	plain      *dbwire.Tracker // socket bytes
	tls        *dbwire.Tracker // TLS library plaintext
	last       time.Time
	header     sensor.Header // the last process seen on it
	reportedTL bool          // an encrypted-unobserved db.session was sent
	sslChecked bool          // the process was searched for its own libssl
}

// dbConns follows every database connection the sensor reports.
type dbConns struct {
	opts  DBOptions
	ports map[uint16]bool
	conns map[uint64]*dbConn
	peers *dbPeers
	sweep time.Time
}

func newDBConns(opts DBOptions, log *slog.Logger) *dbConns {
	if len(opts.Ports) == 0 {
		opts.Ports = db.DefaultPorts
	}
	c := &dbConns{opts: opts, ports: map[uint16]bool{}, conns: map[uint64]*dbConn{},
		peers: newDBPeers(opts.Mute, log.Warn)}
	for _, p := range opts.Ports {
		c.ports[p] = true
	}
	return c
}

// newConn works out a new connection's side and protocol: from the
// configured server port when one end has it, else from its first bytes
// (a PostgreSQL client and a MySQL server speak first).
func (c *dbConns) newConn(d *db.Data) *dbConn {
	conn := &dbConn{end: d.Conn}
	var serverPort uint16
	switch {
	case c.ports[d.Conn.Remote.Port()]:
		conn.side, serverPort = "client", d.Conn.Remote.Port()
	case c.ports[d.Conn.Local.Port()]:
		conn.side, serverPort = "server", d.Conn.Local.Port()
	}
	switch serverPort {
	case 5432:
		conn.engine = dbwire.EnginePostgres
	case 3306:
		conn.engine = dbwire.EngineMySQL
	}
	if conn.engine != "" && conn.side != "" {
		conn.setEnds()
		return conn
	}
	detected, serverSpoke := false, false
	if engine, ok := dbwire.DetectServer(d.Data); ok {
		conn.engine, detected, serverSpoke = engine, true, true
	} else if engine, ok := dbwire.Detect(d.Data); ok {
		conn.engine, detected = engine, true
	}
	if conn.side == "" && detected {
		// This process sent the first bytes: it is the server if they were a
		// greeting, the client if they were a startup or handshake response.
		if d.Sent == serverSpoke {
			conn.side = "server"
		} else {
			conn.side = "client"
		}
	}
	if conn.engine == "" {
		conn.engine = dbwire.EnginePostgres // joined mid-stream on an unknown port
	}
	if conn.side == "" {
		conn.side = "client"
	}
	conn.setEnds()
	return conn
}

// setEnds works out which address is the client's and which the server's
// once, rather than per event or per record.
func (conn *dbConn) setEnds() {
	client, server := conn.end.Local, conn.end.Remote
	if conn.side != "client" {
		client, server = server, client
	}
	conn.client, conn.server = client.String(), server.String()
	conn.key = peerKey{client: unmap(client), server: unmap(server)}
}

func (a *Agent) dbData(d *db.Data) {
	c := a.db
	ts := a.clock.Time(d.TS)
	conn := c.conns[d.Conn.Sock]
	if conn == nil {
		conn = c.newConn(d)
		c.conns[d.Conn.Sock] = conn
		c.peers.added(conn)
	}
	conn.last = ts
	conn.header = d.Header
	if !c.opts.BothEnds && c.peers.leave(conn) {
		// Left to the client end: drop what the server end parsed so
		// far (its statements are the client's) and read no more.
		conn.plain, conn.tls = nil, nil
		return
	}

	dir := dbwire.ClientToServer
	if d.Sent == (conn.side == "server") {
		dir = dbwire.ServerToClient
	}
	t := &conn.plain
	if d.TLS {
		t = &conn.tls
	}
	if *t == nil {
		tr, err := dbwire.NewTracker(dbwire.Config{Engine: conn.engine, Redactor: c.opts.Redactor})
		if err != nil {
			a.opts.Logger.Error("starting database tracker", "err", err)
			return
		}
		*t = tr
	}
	var recs []dbwire.Record
	switch {
	case d.Tail > 0:
		head := d.Data[:len(d.Data)-d.Tail]
		recs = (*t).FeedHeadTail(dir, ts, head, d.Len-len(d.Data), d.Data[len(head):])
	case len(d.Data) < d.Len:
		recs = (*t).FeedTruncated(dir, ts, d.Data, d.Len)
	default:
		recs = (*t).Feed(dir, ts, d.Data)
	}
	a.emitDB(conn, recs, d.TLS)
	if !d.TLS && !conn.sslChecked && conn.plain.Session().Encrypted && conn.tls == nil && c.opts.LibSSLCheck != nil {
		conn.sslChecked = true
		c.opts.LibSSLCheck(d.PID)
	}
	a.sweepDB(ts)
}

func (a *Agent) dbClose(cl *db.Close) {
	conn := a.db.conns[cl.Conn.Sock]
	if conn == nil {
		return
	}
	delete(a.db.conns, cl.Conn.Sock)
	a.db.peers.removed(conn)
	a.finishDB(conn, a.clock.Time(cl.TS))
}

// finishDB flushes a connection's trackers and reports a connection whose
// statements could not be read.
func (a *Agent) finishDB(conn *dbConn, ts time.Time) {
	if conn.plain != nil {
		a.emitDB(conn, conn.plain.Close(ts), false)
	}
	if conn.tls != nil {
		a.emitDB(conn, conn.tls.Close(ts), true)
	}
	if conn.plain != nil && conn.plain.Session().Encrypted && conn.tls == nil && !conn.reportedTL {
		conn.reportedTL = true
		p := a.procs.Lookup(&conn.header)
		d := a.dbPayload(conn, event.DB{Engine: conn.engine, User: conn.plain.Session().User,
			Database: conn.plain.Session().Database}, true)
		d.Encrypted = true
		a.Emit(&event.Event{Time: ts, Kind: event.KindDBSession, Process: &p, DB: d})
	}
	a.flushFoldsConn(conn.end.Sock)
}

func (a *Agent) emitDB(conn *dbConn, recs []dbwire.Record, tls bool) {
	if len(recs) == 0 {
		return
	}
	p := a.procs.Lookup(&conn.header)
	for i := range recs {
		r := &recs[i] // the tracker's, until its next call
		a.completeDB(conn, &r.DB, tls)
		r.DB.Partial = r.Partial && !r.RowsFromServer
		ts := r.End
		if ts.IsZero() {
			ts = r.Start
		}
		a.emitStatement(conn.end.Sock, &r.DB, ts, &p)
	}
}

func (a *Agent) dbPayload(conn *dbConn, in event.DB, tls bool) *event.DB {
	d := in
	a.completeDB(conn, &d, tls)
	return &d
}

// completeDB adds what the connection knows to a statement's payload.
func (a *Agent) completeDB(conn *dbConn, d *event.DB, tls bool) {
	d.Side = conn.side
	d.TLS = tls
	d.Client, d.Server = conn.client, conn.server
	if d.Engine == "" {
		d.Engine = conn.engine
	}
}

// sweepDB drops connections silent for dbIdle, at most once a minute.
func (a *Agent) sweepDB(now time.Time) {
	if now.Sub(a.db.sweep) < time.Minute {
		return
	}
	a.db.sweep = now
	for sock, conn := range a.db.conns {
		if now.Sub(conn.last) > dbIdle {
			delete(a.db.conns, sock)
			a.db.peers.removed(conn)
			a.finishDB(conn, now)
		}
	}
}

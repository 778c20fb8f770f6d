// Package dbwire follows database wire protocols (PostgreSQL v3, MySQL and
// MariaDB) from captured bytes and reports each statement a connection runs:
// its redacted text, rows returned or affected, bytes returned, duration and
// error. It does no I/O: the eBPF sensor feeds it the bytes of each send and
// recv (or SSL_write/SSL_read) of one connection, in order, and turns the
// returned records into db.query events.
//
// One Tracker follows one connection. Messages may be split across any number
// of Feed calls and one call may hold many messages. Capture may be cut short
// (FeedTruncated): the tracker then skips the missing bytes by their length,
// keeps row counts exact when the server's own count (PostgreSQL
// CommandComplete) is captured, and otherwise marks the record Partial with
// rows counted as a lower bound. When it loses the message boundaries (a gap
// that spans messages, garbage, a tracker started mid-connection) it scans for
// a plausible chain of messages and carries on from there; it never panics and
// its buffers are bounded.
//
// For the sensor:
//
//   - One Tracker per connection (NewTracker with the engine picked by port or
//     by Detect / DetectServer on the first bytes), fed in capture order.
//     Direction is the flow of the bytes, not the side capturing them: on a
//     client host the process's send is ClientToServer; on a database host
//     the server's recv is ClientToServer and its send ServerToClient.
//   - Capture of a large send/recv: pass the first and last bytes with
//     FeedHeadTail (preferred: the tail carries the server's row count) or the
//     first bytes with FeedTruncated (rows in the gap are then only counted
//     from what was seen: Record.Partial, a lower bound). Bytes are exact
//     either way because the true length is given.
//   - Session().Encrypted turns true when the connection switches to TLS; the
//     socket bytes are then ignored. Feed the SSL_read/SSL_write plaintext of
//     the same connection to a second Tracker (it starts with the startup
//     packet or handshake response inside TLS); if no plaintext can be had,
//     report a db.session event marked encrypted.
//   - Close on connection close reports statements still awaiting an answer.
//   - Records carry no raw literal: statements go through agent/redact before
//     they leave the tracker; error messages have quoted text and numbers
//     replaced. The caller sets DB.Side, Server, Client and TLS.
//
// What truncation costs: a statement longer than the capture is redacted from
// its prefix (its tail is not reported); bound values beyond the capture are
// not hashed; rows of a result whose end was not captured are a lower bound
// (PostgreSQL) or estimated from sequence ids (MySQL) and marked Partial;
// a tracker that lost its place reports the next statements it can place and
// drops responses it cannot attribute (MySQL responses carry no statement).
package dbwire

import (
	"errors"
	"fmt"
	"time"

	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/event"
)

// Direction is which way captured bytes flowed.
type Direction uint8

// Directions.
const (
	ClientToServer Direction = iota + 1
	ServerToClient
)

func (d Direction) String() string {
	switch d {
	case ClientToServer:
		return "client-to-server"
	case ServerToClient:
		return "server-to-client"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// Engines, as reported in event.DB.Engine.
const (
	EnginePostgres = "postgresql"
	EngineMySQL    = "mysql"
)

// Defaults.
const (
	DefaultMaxMessage = 64 << 10
	DefaultMaxPending = 1024
	// giveUpAfter is how many bytes may go by without finding a message
	// boundary before the tracker stops trying.
	giveUpAfter = 16 << 20
)

// Config configures a Tracker.
type Config struct {
	// Engine is EnginePostgres or EngineMySQL.
	Engine string
	// Redactor redacts statements; required.
	Redactor *redact.Redactor
	// MaxMessage is how many bytes of one protocol message are kept for
	// parsing (statement text, bind values); the rest is skipped by length.
	// Default 64 KiB.
	MaxMessage int
	// MaxPending bounds prepared statements, portals and queued requests kept
	// per connection. Default 1024.
	MaxPending int
}

// Record is one completed statement.
type Record struct {
	// Start is when the request's first byte was seen, End when its response
	// completed.
	Start, End time.Time
	// DB holds engine, user, database, statement, fingerprint, tables,
	// columns, command, rows, bytes, duration, error and identifiers. The
	// caller fills Side, Server, Client and TLS.
	DB event.DB
	// Partial is set when bytes of the exchange were not captured or the
	// tracker had lost its place: Rows is then a lower bound unless the
	// server's own count was seen (RowsFromServer).
	Partial bool
	// RowsFromServer is set when Rows comes from the server's count (a
	// PostgreSQL CommandComplete tag or a MySQL OK packet) rather than from
	// rows counted on the wire.
	RowsFromServer bool
}

// Session is what a tracker knows about its connection.
type Session struct {
	User     string
	Database string
	// Encrypted is set once the connection switched to TLS (PostgreSQL
	// SSLRequest answered 'S', GSSENCRequest answered 'G', MySQL SSL request):
	// the tracker stops parsing the socket bytes. Feed the TLS plaintext
	// (SSL_read/SSL_write) to a new Tracker.
	Encrypted bool
	// Synced is false while the tracker is looking for a message boundary.
	Synced bool
	// GaveUp is set when no boundary was found for a long stretch; the
	// tracker then ignores further bytes and can be dropped.
	GaveUp bool
}

// Stats counts what a tracker did.
type Stats struct {
	Messages     uint64 // protocol messages parsed
	Records      uint64
	ParseErrors  uint64 // malformed messages or headers
	Resyncs      uint64 // times a lost stream found a boundary again
	Gaps         uint64 // truncated captures
	SkippedBytes uint64 // bytes not seen or not parsable
}

// ErrEngine is returned by NewTracker for an unknown engine.
var ErrEngine = errors.New("dbwire: unknown engine")

// Tracker follows one connection. It is not safe for concurrent use.
type Tracker struct {
	cfg       Config
	proto     protocol
	out       []Record
	stats     Stats
	sess      Session
	lostBytes uint64 // bytes gone by while both streams are lost
}

// protocol is one engine's state machine.
type protocol interface {
	feed(dir Direction, ts time.Time, data []byte, missing int)
	flush(ts time.Time)
}

// NewTracker returns a tracker for a new connection. A tracker also works
// when started mid-connection: it finds the next message boundary itself.
func NewTracker(cfg Config) (*Tracker, error) {
	if cfg.Redactor == nil {
		return nil, errors.New("dbwire: a redactor is required")
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = DefaultMaxMessage
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	t := &Tracker{cfg: cfg}
	switch cfg.Engine {
	case EnginePostgres:
		t.proto = newPostgres(t)
	case EngineMySQL:
		t.proto = newMySQL(t)
	default:
		return nil, fmt.Errorf("%w %q", ErrEngine, cfg.Engine)
	}
	return t, nil
}

// Feed gives the tracker the bytes of one send or recv, in connection order,
// and returns the statements that completed. The slice returned by Feed,
// FeedTruncated, FeedHeadTail and Close is valid until the next of these
// calls: a caller that keeps the records copies them.
func (t *Tracker) Feed(dir Direction, ts time.Time, data []byte) []Record {
	return t.FeedTruncated(dir, ts, data, len(data))
}

// FeedTruncated is Feed for a capture that holds only the first len(data) of
// totalLen bytes. The missing bytes are skipped by count: inside one message
// (a large DataRow, a long query) nothing is lost but that message's content;
// across message boundaries the tracker loses its place until it finds a
// boundary again, and rows counted in the gap are lost (see Record.Partial).
func (t *Tracker) FeedTruncated(dir Direction, ts time.Time, data []byte, totalLen int) []Record {
	t.out = t.out[:0]
	t.feed(dir, ts, data, totalLen)
	return t.records()
}

// feed parses data, the first len(data) of totalLen bytes, adding the
// statements it completes to t.out.
func (t *Tracker) feed(dir Direction, ts time.Time, data []byte, totalLen int) {
	if t.sess.Encrypted || t.sess.GaveUp || (dir != ClientToServer && dir != ServerToClient) {
		return
	}
	missing := max(totalLen-len(data), 0)
	if missing > 0 {
		t.stats.Gaps++
		t.stats.SkippedBytes += uint64(missing)
	}
	t.proto.feed(dir, ts, data, missing)
}

// records returns what the last call completed: t.out itself, which the
// next call reuses (the agent handles a record's statements before it
// reads the next record, so a copy per call was garbage).
func (t *Tracker) records() []Record {
	if len(t.out) == 0 {
		return nil
	}
	return t.out
}

// FeedHeadTail is FeedTruncated for a capture that kept the first bytes
// (head) and the last bytes (tail) of a send or recv, with missing bytes
// between them. The tail usually holds the end of a response (PostgreSQL's
// CommandComplete with the server's row count, MySQL's EOF/OK after the last
// row), so row counts stay exact (PostgreSQL) or close (MySQL: rows in the
// gap are counted from packet sequence ids and the average row size) where a
// head alone would give a lower bound. Sensors should prefer it.
func (t *Tracker) FeedHeadTail(dir Direction, ts time.Time, head []byte, missing int, tail []byte) []Record {
	t.out = t.out[:0]
	t.feed(dir, ts, head, len(head)+max(missing, 0))
	if len(tail) > 0 {
		t.feed(dir, ts, tail, len(tail))
	}
	return t.records()
}

// Close reports statements still waiting for a response when the connection
// closed (marked Partial).
func (t *Tracker) Close(ts time.Time) []Record {
	t.out = t.out[:0]
	t.proto.flush(ts)
	return t.records()
}

// Session returns what the tracker knows about the connection.
func (t *Tracker) Session() Session { return t.sess }

// Stats returns the tracker's counters.
func (t *Tracker) Stats() Stats { return t.stats }

func (t *Tracker) emit(r Record) {
	t.stats.Records++
	t.out = append(t.out, r)
}

// lost accounts bytes that could not be placed; after giveUpAfter the
// tracker gives up on the connection.
func (t *Tracker) lost(n int) {
	t.stats.SkippedBytes += uint64(n)
	t.lostBytes += uint64(n)
	if t.lostBytes > giveUpAfter {
		t.sess.GaveUp = true
	}
}

func (t *Tracker) found() {
	t.lostBytes = 0
}

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

// Defaults for Config.
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
	// Default DefaultMaxMessage.
	MaxMessage int
	// MaxPending bounds prepared statements, portals and queued requests kept
	// per connection. Default DefaultMaxPending.
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
	// Encrypted is set once the connection switched to TLS or GSS
	// encryption (PostgreSQL SSLRequest answered 'S', GSSENCRequest answered
	// 'G', a TLS ClientHello as a PostgreSQL client's first bytes, MySQL SSL
	// request); the socket bytes are ignored from then on.
	Encrypted bool
	// Synced is false while the tracker is looking for a message boundary.
	Synced bool
	// GaveUp is set when the tracker cannot follow the connection any
	// further (Reason says why); it then ignores further bytes and can be
	// dropped.
	GaveUp bool
	// Reason says why the socket bytes cannot be read, once Encrypted or
	// GaveUp is set: one of the Reason constants.
	Reason string `json:",omitempty"`
}

// Why a connection's statements cannot be read from its socket bytes
// (Session.Reason).
const (
	// ReasonTLS: TLS negotiated in the protocol; the plaintext can only come
	// from the TLS library.
	ReasonTLS = "tls"
	// ReasonDirectTLS: TLS from the first byte (PostgreSQL 17
	// sslnegotiation=direct).
	ReasonDirectTLS = "direct_tls"
	// ReasonGSS: GSSAPI encryption (PostgreSQL GSSENCRequest).
	ReasonGSS = "gss"
	// ReasonLost: no message boundary found for a long stretch of bytes.
	ReasonLost = "lost"
	// ReasonCompressed: a MySQL compressed packet that does not inflate, or
	// a place in the compressed stream lost to uncaptured bytes.
	ReasonCompressed = "compressed"
)

// Stats counts what a tracker did.
type Stats struct {
	Messages     uint64 // protocol messages parsed
	Records      uint64
	ParseErrors  uint64 // malformed messages or headers
	Resyncs      uint64 // times a lost stream found a boundary again
	Gaps         uint64 // truncated captures
	SkippedBytes uint64 // bytes not seen or not parsable
	Evicted      uint64 // prepared statements and open cursors forgotten to stay within MaxPending
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
	lostBytes uint64             // bytes gone by while both streams are lost
	cursors   map[string]*cursor // open cursors by name (cursors.go)
}

// protocol is one engine's state machine.
type protocol interface {
	feed(dir Direction, ts time.Time, data []byte, missing int)
	flush(ts time.Time)
}

// NewTracker returns a tracker for a new connection, or for one already
// under way: it finds the next message boundary itself.
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
// and returns the statements that completed; the slice is valid until the
// next Feed, FeedTruncated, FeedHeadTail or Close.
func (t *Tracker) Feed(dir Direction, ts time.Time, data []byte) []Record {
	return t.FeedTruncated(dir, ts, data, len(data))
}

// FeedTruncated is Feed for a capture that holds only the first len(data) of
// totalLen bytes; the rest is skipped by count (see the package
// documentation for what that costs).
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

// records returns what the last call completed: t.out itself, reused by the
// next call so that feeding a capture does not allocate a slice.
func (t *Tracker) records() []Record {
	if len(t.out) == 0 {
		return nil
	}
	return t.out
}

// FeedHeadTail is FeedTruncated for a capture that kept the first bytes
// (head) and the last bytes (tail) of a send or recv, with missing bytes
// between them; sensors should prefer it, since the tail usually holds the
// server's row count.
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
		t.giveUp(ReasonLost)
	}
}

// evictOne forgets one entry of m, whichever, and counts it in evicted: a
// full table makes room rather than grow.
func evictOne[K comparable, V any](m map[K]V, evicted *uint64) {
	for k := range m {
		delete(m, k)
		*evicted++
		return
	}
}

// giveUp stops following the connection, for reason.
func (t *Tracker) giveUp(reason string) {
	if !t.sess.GaveUp && !t.sess.Encrypted {
		t.sess.GaveUp, t.sess.Reason = true, reason
	}
}

// encrypted notes that the socket bytes are encrypted from now on.
func (t *Tracker) encrypted(reason string) {
	if !t.sess.GaveUp && !t.sess.Encrypted {
		t.sess.Encrypted, t.sess.Reason = true, reason
	}
}

func (t *Tracker) found() {
	t.lostBytes = 0
}

package dbconn

import (
	"log/slog"
	"time"

	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/agent/sensor/db"
)

// Options configure how database connections become events.
type Options struct {
	// Ports are database server ports; they say which end is the server.
	// Empty: db.DefaultPorts.
	Ports []uint16
	// Redactor redacts captured SQL. Nil turns redaction off: set it.
	Redactor *redact.Redactor
	// LibSSLCheck, if set, is called with the pid of a process whose
	// connection turned out to be TLS that no probed libssl showed, so the
	// sensor can look for the process's own libssl.
	LibSSLCheck func(pid uint32)
	// Mute, if set, stops the kernel capturing a connection end (the db
	// sensor's Mute): the server end of a local connection whose client
	// end is read is then left to the client end (see peers).
	Mute func(end db.Conn) error
	// BothEnds reports local connections from both ends, each statement
	// twice; for tests that check the server side.
	BothEnds bool
	// FoldWindow folds repeats of a statement on a connection into one
	// db.query per window (see folds). Zero reports every run.
	FoldWindow time.Duration
	// SessionEvery is how often an open connection whose statements cannot
	// be read is reported while it moves bytes (zero:
	// DefaultSessionEvery).
	SessionEvery time.Duration
	// Logger takes warnings (nil: slog.Default()).
	Logger *slog.Logger
}

// idleAfter is how long a connection may be silent before its trackers are
// dropped: the kernel reports closes, and this bounds what a missed close
// costs.
const idleAfter = 15 * time.Minute

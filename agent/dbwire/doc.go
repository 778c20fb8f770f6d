// Package dbwire follows database wire protocols (PostgreSQL v3, MySQL and
// MariaDB) from captured bytes and reports each statement a connection runs.
// It does no I/O: a sensor hands it the bytes of each send and recv (or
// SSL_write and SSL_read) of a connection, and turns the records it returns
// into db.query events.
//
// # Trackers
//
// A Tracker follows one connection. Create it with NewTracker, naming the
// engine by the server's port or by Detect (the client's first bytes) or
// DetectServer (the server's first bytes), and feed it every capture of that
// connection in capture order. Messages may be split across any number of
// calls and one call may hold many messages. A tracker started
// mid-connection, or one that loses its place, looks for a plausible chain of
// messages and carries on from there; it never panics and its buffers are
// bounded by Config.MaxMessage and Config.MaxPending. A Tracker is not safe
// for concurrent use.
//
// # Directions
//
// Direction is the way the bytes flowed, not the side that captured them. On
// a client host the process's send is ClientToServer and its recv
// ServerToClient; on a database host the server's recv is ClientToServer and
// its send ServerToClient.
//
// # Feeding captures
//
//   - Feed takes the whole bytes of one send or recv.
//   - FeedTruncated takes the first bytes of a capture and its true length.
//     The missing bytes are skipped by count: inside one message (a large
//     DataRow, a long query) only that message's content is lost; across
//     message boundaries the tracker loses its place until it finds one again.
//   - FeedHeadTail takes the first and the last bytes of a capture and how
//     many are missing between them. Sensors should prefer it: the tail
//     usually holds the end of a response (PostgreSQL's CommandComplete with
//     the server's row count, MySQL's EOF or OK after the last row), so row
//     counts stay exact where a head alone gives a lower bound.
//   - Close, when the connection closes, reports statements still waiting
//     for an answer, marked Partial.
//
// Bytes are counted exactly whichever call is used, since the true length is
// given.
//
// The slice returned by Feed, FeedTruncated, FeedHeadTail and Close is the
// tracker's own buffer and is valid only until the next of these calls on
// the same Tracker: a caller that keeps records past that copies them.
//
// # Records
//
// A Record is one completed statement: when its request started and its
// response ended, and in DB the engine, user, database, redacted statement,
// fingerprint, command, tables, columns, keyed hashes of identifier values
// (from literals and from bound parameters), the names of the result's
// columns (RowDescription, column definitions), rows, bytes returned,
// duration and error. The caller fills DB.Side, Server, Client and TLS.
//
// Rows read through a cursor (PostgreSQL FETCH after DECLARE, MySQL
// HANDLER READ after HANDLER OPEN, COM_STMT_FETCH of a prepared statement)
// carry the tables, columns and identifier hashes of the cursor's query.
//
// Records carry no raw literal: statements go through agent/redact before
// they leave the tracker, server error messages have quoted text and
// numbers replaced, and a result column's name is kept only where it
// cannot be a literal: PostgreSQL's names are identifiers or function
// names, but MySQL names an expression's column after its text (and so a
// derived table's columns), so such a name is kept only where the
// redacted statement shows it as a whole; a MySQL column of a table the
// statement names goes by the table's name for it (an alias may be a
// string literal).
//
// Rows come from the server's own count where it was captured (a PostgreSQL
// CommandComplete tag, a MySQL OK packet; Record.RowsFromServer), otherwise
// from rows counted on the wire. Partial marks a record whose exchange was
// not all captured or that the tracker could not place for certain; its
// Rows is then a lower bound (PostgreSQL) or an estimate from packet sequence
// ids and the average row size (MySQL).
//
// # What truncation costs
//
// A statement longer than the capture is redacted from its prefix; bound
// values beyond the capture are not hashed; a tracker that lost its place
// reports the next statements it can place and drops responses it cannot
// attribute (MySQL responses carry no statement).
//
// # Encryption
//
// Session().Encrypted turns true when the connection switches to TLS or GSS
// encryption; the tracker then ignores the socket bytes. Feed the
// SSL_read/SSL_write plaintext of the same connection to a second Tracker,
// which starts with the startup packet or handshake response inside TLS. When
// no plaintext can be had, report a db.session event marked encrypted.
package dbwire

// Package dbconn follows the database connections the db sensor reports and
// turns what is said on them into events: it works out each connection's
// side and protocol, parses both directions with a dbwire tracker (socket
// bytes and TLS plaintext apart), leaves the server end of a local
// connection to its client end, and folds repeats of a statement into one
// event per window.
//
// It takes sensor records and returns events. Fold windows that end with no
// record to end them are signalled on Due; the caller then collects their
// events with Expire. Nothing here calls back into its caller.
package dbconn

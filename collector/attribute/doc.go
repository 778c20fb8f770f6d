// Package attribute ties statements read at a database server to the
// person at the keyboard of the client end. A database host's agent reports
// the statements its server received (db.side "server") under the server's
// own process; a workstation's agent reports the connections its programs
// open (db.query and db.session with db.side "client", net.transfer). A
// Joiner matches the two by the connection's addresses and marks each
// server-side statement: attributed to the client end's host, process and
// person when that end's agent could not read the statements itself (Java's
// own TLS, an unprobed library), a duplicate when it did (so the statements
// are counted once), or unjoined, with the reason, when no client end is
// known.
//
// The two agents' streams arrive in no set order, so a statement of a
// connection not yet reported waits a grace period for the report. The
// Joiner takes events and returns them, judged, in the order to hand on; it
// holds no locks, does no I/O and calls nothing back: the caller stores the
// judgement and runs the rules.
package attribute

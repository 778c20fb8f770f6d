// Package convert turns the sensors' process, file and net records into
// events: each record's process is described from the process table, its
// kernel time made wall time, its device named by mount, and a rename is
// reported only for a file the agent saw written. A DNS query becomes a
// dns.query event with its registered domain, once a minute per process and
// name. Database records go to
// package dbconn instead.
package convert

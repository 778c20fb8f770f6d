// Package testdb starts real PostgreSQL and MariaDB servers for tests, on
// loopback with throwaway data directories, with TLS on or off. Tests skip
// (saying which binary is missing) where the servers are not installed, and
// fail under CI, which installs them (testenv.Skip).
//
// Servers log to a pipe; readiness is the server's own "ready" line, never a
// timer.
package testdb

// Package dbwiretest generates realistic database wire traffic for
// benchmarks and equivalence tests of the agent's database path: a
// pgbench-like TPC-B workload over the PostgreSQL simple and extended query
// protocols, and the same workload over MySQL COM_QUERY, each with the
// server's answers, split into the sends and receives a sensor captures.
// It builds byte slices only and does no I/O.
package dbwiretest

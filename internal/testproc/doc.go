// Package testproc runs the processes that vigil's end-to-end tests and its
// benchmark drive: a free port to give each one, a polling helper that ends
// with the last thing it saw, and vigil-collector and vigil-agent binaries
// started with their output in a log file and waited for by their own
// signal of readiness (the collector's /healthz, the agent's sensor log
// lines), never by a timer.
//
// Functions that take a testing.TB fail the test; the others return errors,
// for the benchmark program, which is not a test.
package testproc

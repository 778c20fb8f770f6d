// Package e2e runs vigil's parts as they run in production: the built
// collector and agent binaries, real nats-server processes, kill -9 and
// outages. Tests that need root or the kernel skip with the reason.
//
// Processes start and are waited for through internal/testproc, databases
// through internal/testdb; helpers_test.go holds what the tests share.
package e2e

// Vigil-collector receives every site's events and alerts over NATS
// JetStream, correlates them and serves the SOC (see package collector).
// main.go only parses flags and wires the parts together.
package main

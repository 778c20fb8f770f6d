// Package testnats starts NATS servers for tests: in-process ones through
// nats-server's own test helpers, and real nats-server processes built from
// the module for cluster and leaf node topologies.
package testnats

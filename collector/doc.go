// Package collector assembles the central service: NATS (embedded or
// external), ingest into the store, correlation rules, liveness, the HTTP
// API and the OCSF export.
package collector

// Package ingest reads the agents' messages from the collector's durable
// JetStream consumers and stores them. Events go in one lane; alerts and
// heartbeats in another, so they never queue behind events. Malformed,
// oversized and misattributed messages are counted and skipped, duplicates
// are dropped by event id, gaps in an agent's seq are recorded as loss,
// correlation rules run over every new event and alert, and heartbeats
// feed the liveness tracker. A batch is committed to the store before its
// messages are acknowledged, so a crash at any point redelivers and nothing
// is stored twice.
package ingest

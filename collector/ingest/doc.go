// Package ingest stores what the agents publish: it reads the collector's
// JetStream consumers (events in one lane; alerts and heartbeats in another,
// so they never wait behind events), drops duplicates by event id, records
// gaps in an agent's seq as loss, runs the correlation rules and feeds
// heartbeats to the liveness tracker. A batch commits before its messages
// are acknowledged, so a crash redelivers and nothing is stored twice.
package ingest

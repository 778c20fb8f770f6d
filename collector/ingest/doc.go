// Package ingest stores what the agents publish: it reads the collector's
// JetStream consumers (events in one lane; alerts and heartbeats in another,
// so they never wait behind events), drops duplicates by event id, records
// gaps in an agent's seq as loss, joins statements read at a database
// server with their connection's client end (package attribute; a
// statement waits there for its client end's report, then its stored copy
// is updated), runs the correlation rules and feeds heartbeats to the
// liveness tracker. A batch commits before its messages are acknowledged,
// so a crash redelivers and nothing is stored twice. After each stored batch
// it tells the agents what they may forget from their spools (their
// watermarks, PublishCommitted), since JetStream's own acknowledgement
// does not survive a power loss of this host.
//
// ingest.go is the loop and the batch, attribution.go the join's stage and
// its ticker, warm.go what a restart reads back, committed.go the
// watermarks.
package ingest

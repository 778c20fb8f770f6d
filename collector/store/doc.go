// Package store keeps the collector's alerts with their evidence events,
// the agents and sites it has heard from, and the loss it has seen, in an
// embedded SQLite database (modernc.org/sqlite, pure Go). The events table
// doubles as the collector's dedupe set: an event id is stored once however
// often JetStream delivers it.
//
// schema.sql is the database; write.go is a batch of writes (Tx), loss.go
// the accounting of missing seqs, committed.go the watermark agents are
// told (how far each boot is stored with nothing missing), update.go what the collector learns of
// an event after storing it, query.go what the API reads and prune.go
// retention. chain.go hash-chains every write to the evidence tables in
// its transaction, checkpoint.go keeps the signed statements of where the
// chain stood, and verify.go checks a store file against both.
package store

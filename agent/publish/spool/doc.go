// Package spool is the agent's on-disk queue of events waiting for the
// collector: every event passes through it, so order is kept, and an agent
// restart (or a kill -9) resumes from what the collector has not confirmed
// stored. Each flush syncs what was written since the last.
//
// The spool is an append-only log of segments, <dir>/<n>.seg, each a run of
// records: 4-byte big-endian length, 4-byte CRC-32C of the payload, payload.
// A record's payload is uvarint length, subject, uvarint length, message id,
// event. <dir>/cursor names two records, each by segment, offset and
// index: the first the collector has not confirmed stored (Commit), and
// the first JetStream has not acknowledged (Ack), then their CRC-32C, in
// one fixed-width line rewritten in place. Segments go only when wholly
// before the first: a resend starts there (Start). When the spool exceeds
// its bound the oldest segment goes, and the unacknowledged records lost
// with it are reported as Drops, by the seq ranges of the events they
// held; acknowledged ones are counted apart (UnconfirmedDropped).
//
// The newest records are also kept in memory (the tail), so a reader keeping
// up never reads the file back; one that falls behind, or starts over after
// an error, reads the file.
package spool

-- The hash chain (chain.go): every write to events, alerts, alert_evidence,
-- loss, triage and audit appends an entry, in the writing transaction,
-- whose hash covers the previous entry's hash and a digest of the row as
-- stored. A row's latest entry holds the digest its columns must still
-- have; verify.go checks both. op is insert, update, write (an upsert),
-- delete, carry (an entry moved past a pruned segment) or adopt (a row
-- stored before the chain existed).
CREATE TABLE IF NOT EXISTS chain (
	seq    INTEGER PRIMARY KEY,
	at     INTEGER NOT NULL,
	tbl    TEXT NOT NULL,
	row    TEXT NOT NULL,
	op     TEXT NOT NULL,
	digest BLOB NOT NULL,
	hash   BLOB NOT NULL
);
-- A row's entries, for Prune: a few microseconds per write, against a
-- scan of the whole chain at every prune.
CREATE INDEX IF NOT EXISTS chain_row ON chain(tbl, row);

-- Signed statements of where the chain stood: kind interval or shutdown
-- (the head at that time) or base (the end of a pruned segment, where the
-- chain now starts). sig is ed25519 over checkpoint.go's message;
-- published is set once every configured place took it.
CREATE TABLE IF NOT EXISTS checkpoints (
	n         INTEGER PRIMARY KEY,
	seq       INTEGER NOT NULL,
	hash      BLOB NOT NULL,
	at        INTEGER NOT NULL,
	kind      TEXT NOT NULL,
	sig       BLOB NOT NULL,
	published INTEGER NOT NULL DEFAULT 0
);

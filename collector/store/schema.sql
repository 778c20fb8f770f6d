-- The collector's database, as it was when schema versions began: the
-- first migration (migrate.go). Each statement creates what is missing and
-- leaves what exists alone, so it also applies to a store made before
-- versions were kept.
-- Times are milliseconds since the Unix epoch; n is arrival order.

-- Every event stored, once per id: the table is also the dedupe set.
CREATE TABLE IF NOT EXISTS events (
	n        INTEGER PRIMARY KEY,
	id       TEXT NOT NULL UNIQUE,
	time     INTEGER NOT NULL,
	received INTEGER NOT NULL,
	kind     TEXT NOT NULL,
	site     TEXT NOT NULL,
	host     TEXT NOT NULL,
	agent_id TEXT NOT NULL,
	boot_id  TEXT NOT NULL,
	seq      INTEGER NOT NULL,
	person   TEXT NOT NULL,
	body     BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_received ON events(received);

-- Alerts, with the columns the API filters on; sev is event.SeverityRank.
CREATE TABLE IF NOT EXISTS alerts (
	n        INTEGER PRIMARY KEY,
	id       TEXT NOT NULL UNIQUE,
	time     INTEGER NOT NULL,
	received INTEGER NOT NULL,
	rule     TEXT NOT NULL,
	severity TEXT NOT NULL,
	sev      INTEGER NOT NULL,
	scope    TEXT NOT NULL,
	site     TEXT NOT NULL,
	host     TEXT NOT NULL,
	agent_id TEXT NOT NULL,
	person   TEXT NOT NULL,
	summary  TEXT NOT NULL,
	body     BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_received ON alerts(received);

-- Which events an alert cites, by id: an event may arrive after its alert.
CREATE TABLE IF NOT EXISTS alert_evidence (
	alert_id TEXT NOT NULL,
	event_id TEXT NOT NULL,
	PRIMARY KEY (alert_id, event_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS evidence_event ON alert_evidence(event_id);

-- Agents and sites heard from; heartbeat is the agent's latest, as JSON.
CREATE TABLE IF NOT EXISTS agents (
	agent_id   TEXT PRIMARY KEY,
	site       TEXT NOT NULL,
	host       TEXT NOT NULL,
	boot_id    TEXT NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	last_heartbeat INTEGER NOT NULL DEFAULT 0,
	heartbeat  BLOB
);
CREATE TABLE IF NOT EXISTS sites (
	site       TEXT PRIMARY KEY,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL
);

-- Events that did not arrive; from_seq..to_seq is the missing range of
-- boot_id's seqs (both 0 when the agent named none).
CREATE TABLE IF NOT EXISTS loss (
	n        INTEGER PRIMARY KEY,
	time     INTEGER NOT NULL,
	site     TEXT NOT NULL,
	host     TEXT NOT NULL,
	agent_id TEXT NOT NULL,
	boot_id  TEXT NOT NULL,
	reason   TEXT NOT NULL,
	sensor   TEXT NOT NULL,
	count    INTEGER NOT NULL,
	from_seq INTEGER NOT NULL DEFAULT 0,
	to_seq   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS loss_gap ON loss(agent_id, boot_id, reason);

-- The highest seq seen (stored, or reported lost) of each agent's boot:
-- a later seq past it shows a gap.
CREATE TABLE IF NOT EXISTS seqs (
	agent_id TEXT NOT NULL,
	boot_id  TEXT NOT NULL,
	max_seq  INTEGER NOT NULL,
	PRIMARY KEY (agent_id, boot_id)
) WITHOUT ROWID;


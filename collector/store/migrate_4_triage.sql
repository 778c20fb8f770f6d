-- Triage: where each alert stands (an alert without a row is open), and
-- the audit log of who read which evidence and who triaged what.
CREATE TABLE IF NOT EXISTS triage (
	alert_id TEXT PRIMARY KEY,
	status   TEXT NOT NULL,
	reason   TEXT NOT NULL DEFAULT '',
	assignee TEXT NOT NULL DEFAULT '',
	actor    TEXT NOT NULL,
	at       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS triage_status ON triage(status);

CREATE TABLE IF NOT EXISTS audit (
	n      INTEGER PRIMARY KEY,
	at     INTEGER NOT NULL,
	actor  TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_target ON audit(target);

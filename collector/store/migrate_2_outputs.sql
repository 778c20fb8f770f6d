-- Where each output (a SIEM's file, webhook or syslog) stands: the last
-- alert, by n, it has delivered. Outputs resume from here after a restart.
CREATE TABLE IF NOT EXISTS outputs (
	name    TEXT PRIMARY KEY,
	last_n  INTEGER NOT NULL,
	updated INTEGER NOT NULL
) WITHOUT ROWID;

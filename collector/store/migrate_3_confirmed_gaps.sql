-- A gap in an agent's seqs is only suspected until it has stayed open for a
-- while (an alert overtakes the events queued before it; a reconnection
-- resends): confirmed marks the rows counted as loss. Rows from before
-- were counted when found.
ALTER TABLE loss ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 1;

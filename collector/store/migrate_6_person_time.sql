-- Indexes for the console and for pruning: a person's events by time (the
-- person page), a site's events by time (the peers beside them), and the
-- audit log by time (pruned with the store's retention).
CREATE INDEX IF NOT EXISTS events_person_time ON events(person, time);
CREATE INDEX IF NOT EXISTS events_site_time ON events(site, time);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);

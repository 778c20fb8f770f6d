-- What the person page sums of each event, as columns (filled from the
-- bodies of the events stored before them, by fillMeasures), and a
-- person's and a site's events by time with them: the person page reads
-- these indexes alone, not the events' rows.
ALTER TABLE events ADD COLUMN db_rows INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN upload_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN export_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN idents TEXT;
DROP INDEX IF EXISTS events_person_time;
DROP INDEX IF EXISTS events_site_time;
CREATE INDEX IF NOT EXISTS events_person_measures ON events(person, time, site, kind, db_rows, upload_bytes, export_bytes, idents);
CREATE INDEX IF NOT EXISTS events_site_measures ON events(site, time, person, db_rows, upload_bytes, export_bytes, idents);

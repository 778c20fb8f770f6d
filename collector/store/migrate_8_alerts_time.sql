-- Alerts by time with their severity and site: the console's alerts per
-- day and per site read this index alone, not the alerts' bodies.
CREATE INDEX IF NOT EXISTS alerts_time ON alerts(time, severity, site);

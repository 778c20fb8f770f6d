// Package forward delivers alerts to a SOC's systems as OCSF Detection
// Findings: to a file, a webhook (signed with HMAC-SHA256, retried) and
// syslog (RFC 5424). Each output keeps its own cursor in the store, the
// last alert it delivered, so it resumes after a restart or an outage and
// delivers every alert at least once, in order; receivers deduplicate by
// finding_info.uid. A finding waits a while for evidence events that are
// not stored yet, as alerts overtake the events queued before them.
package forward

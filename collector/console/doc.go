// Package console is the SOC's web console, served by the collector from
// templates and assets embedded in its binary: sign-in, the alert queue
// (newest first, refreshed in place by htmx), an alert's detail with its
// evidence, triage, and the audit log for admins. Authentication, roles
// and cross-origin protection are the API server's (collector/api with
// collector/auth); this package renders and records.
package console

// Package console is the SOC's web console, served by the collector from
// templates and assets embedded in its binary: sign-in, the alert queue
// (newest first, refreshed in place by htmx when the Server-Sent Events
// stream says alerts changed), an alert's detail with its evidence,
// triage, cases, a person's page with charts beside their peers (SVG drawn
// on the server), the fleet views, password changes, and for admins the
// users and the audit log. Authentication, roles and cross-origin
// protection are the API server's (collector/api with collector/auth);
// this package renders and records.
package console

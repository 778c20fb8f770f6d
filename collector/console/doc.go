// Package console is the SOC's web console, served by the collector from
// templates and assets embedded in its binary: sign-in, the alert queue
// (newest first, refreshed in place by htmx when the Server-Sent Events
// stream says alerts changed), an alert's detail with its evidence,
// triage, cases, the fleet's alerts and sites per day above the queue, a
// person's page with charts beside their peers (drawn in the browser by
// the vendored uPlot from numbers in the page), the fleet views with each
// agent's rule bundle beside its site's, password changes, and for admins
// the users and the audit log. Authentication, roles and cross-origin
// protection are the API server's (collector/api with collector/auth);
// this package renders and records.
package console

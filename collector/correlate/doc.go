// Package correlate runs the collector's correlation rules (scope global)
// over every site's events and the hosts' alerts, and the host rules over
// the statements the collector attributed to a connection's client end
// (package attribute), whose person no agent saw; it reloads them when the
// rule directory changes, keeping the last good set when a file is wrong.
package correlate

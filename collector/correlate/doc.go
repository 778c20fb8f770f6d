// Package correlate runs the collector's correlation rules (scope global)
// over every site's events and the hosts' alerts, and reloads them when the
// rule directory changes, keeping the last good set when a file is wrong.
package correlate

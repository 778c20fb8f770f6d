// Package enrol gives each agent its own NKey identity. Enrolling writes the
// agent's public key, site and id into the collector's agents directory
// (the collector grants that key publish rights on the agent's own
// subjects only) and returns the credentials file for the agent host.
package enrol

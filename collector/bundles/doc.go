// Package bundles signs host rule bundles with the collector's key and
// serves them to agents: vigil rules publish writes a signed bundle into
// the collector's data directory, and the collector puts the newest of
// each site's into a JetStream key-value bucket that agents read their
// own site's keys of. It also says which bundle each site should run, for
// liveness to alert on an agent that runs another.
package bundles

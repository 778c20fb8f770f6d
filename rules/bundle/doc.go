// Package bundle is the signed rule bundle: the host rule files of a site
// (or of every site), a version that only grows, and an ed25519 signature
// over both, so an agent can refuse bundles that are unsigned, altered,
// signed by another key, meant for another site, or older than the one it
// runs. It reads and writes bytes only; keeping keys and bundles on disk
// and on NATS is the collector's and the agent's.
package bundle

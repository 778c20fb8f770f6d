// Package metrics defines the collector's Prometheus metrics, which ingest
// counts into and the API serves at /metrics.
package metrics

// Package liveness watches agents' heartbeats. An insider's first move may
// be to blind the agent, so the collector alerts when an agent goes silent
// for three heartbeat intervals (and again while it stays silent), stops on
// a host that keeps running, restarts without a clean stop, loses events,
// runs fewer sensors than before or finds its own probes detached, changes
// its rule set to one the SOC did not ship, or has its key refused by NATS.
package liveness

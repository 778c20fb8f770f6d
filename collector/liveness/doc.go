// Package liveness watches agents' heartbeats. An insider's first move may
// be to blind the agent, so the collector alerts when an agent goes silent
// for three heartbeat intervals, stops, restarts without a clean stop, loses
// events, runs fewer sensors than before, or changes its rule set to one
// the SOC did not ship.
package liveness

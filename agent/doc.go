// Package agent is vigil's host agent. It runs the sensors and reads their
// records; hands each to the stage that makes events of it (package
// convert for process, file and net records, package dbconn for database
// connections); numbers the events and stamps them with the agent's
// identity; runs the host rules over them; and gives events and alerts to
// a sink (stdout, or the publisher that spools them for the collector). It
// also watches the kernel's loss counters and describes itself for
// heartbeats.
//
// The stages return events; none calls back into the agent.
package agent

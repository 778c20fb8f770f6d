// Package rules is vigil's HCL rule language. It compiles rule files into an
// immutable Set, rejecting mistakes with hcl.Diagnostics that point at
// file:line:col, and runs a Set's rules, thresholds and sequences over events
// in an Engine: host rules in the agent, global rules in the collector, so
// both judge events the same way. Rules read the event fields of
// fields_gen.go, generated from event/event.go; docs/rules.md is the
// reference.
package rules

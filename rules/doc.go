// Package rules is vigil's HCL rule language: Load checks rule files and
// reports every mistake as an hcl.Diagnostic, and an Engine evaluates the
// compiled Set on each event, with the windows thresholds and sequences
// need. The agent runs host rules with it and the collector its correlation
// across hosts, so both judge events the same way. Rules read the event
// fields of fields_gen.go, generated from event/event.go; docs/rules.md is
// the reference.
package rules

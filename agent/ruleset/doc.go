// Package ruleset keeps the agent's last good host rule set on disk, so an
// agent whose rule files were broken (by mistake or on purpose) starts with
// the rules it last ran rather than with none.
package ruleset

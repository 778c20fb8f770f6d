// Package rulesync brings the agent its site's signed rule bundles from the
// collector: it verifies each against the key pinned at enrolment, refuses
// unsigned, altered, foreign and older ones (and says why), hands a good
// one to the host rules, and keeps it on disk so a restart runs it even
// when the collector cannot be reached.
package rulesync

// Package evidence says in words what an alert's evidence events show: one
// line per event and the process lineage behind it. The console and the
// CLI render evidence with it, so an analyst reads the same sentence in
// both.
package evidence

// Package cli is what vigil's three binaries share about their command
// lines, built on cobra: exit codes (0 done, 1 failed, 2 wrong command
// line), `help TOPIC`, single-dash long flags kept from the flag package,
// and the man pages and shell completions generated from the command tree.
package cli

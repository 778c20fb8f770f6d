// Command vigil is the operator CLI: rule tooling, alerts and enrolment.
//
// Each top-level command lives in its own file and registers itself from
// init, so commands can be added without touching this file:
//
//	// alerts.go
//	func init() {
//		register(command{
//			name:    "alerts",
//			usage:   "alerts list|tail [flags]",
//			summary: "list or follow alerts from the collector",
//			run:     runAlerts, // func(args []string, stdout, stderr io.Writer) int
//		})
//	}
//
// Commands in use or reserved: rules (rules.go), alerts (alerts.go),
// enrol (enrol.go), verify (verify.go), version (main.go).
package main

// Command vigil-agent watches a support workstation for data theft: database
// queries, file writes and outbound transfers, attributed to the person
// logged in. main.go only wires the parts together; hostrules.go keeps the
// host rules in force when their files break, rejection.go makes the alert
// that reports it, and bundles.go follows the collector's signed rule
// bundles in bundle mode.
package main

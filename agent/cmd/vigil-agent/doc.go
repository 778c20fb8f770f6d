// Command vigil-agent watches a support workstation for data theft: database
// queries, file writes and outbound transfers, attributed to the person
// logged in. main.go only wires the parts together.
package main

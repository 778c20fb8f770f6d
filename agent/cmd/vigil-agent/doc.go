// Command vigil-agent watches a support workstation for data theft: database
// queries, file writes and outbound transfers, attributed to the person
// logged in. main.go only wires the parts together; hostrules.go keeps the
// host rules in force when their files break, and rejection.go makes the
// alert that reports it.
package main

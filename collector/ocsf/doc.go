// Package ocsf renders alerts as OCSF Detection Finding events (class 2004)
// for SIEMs, one JSON object per line, with each evidence event rendered as
// the OCSF class that fits it: Datastore Activity (6005) for database
// queries, File System Activity (1001) for file writes and renames, Network
// Activity (4001) for transfers, Process Activity (1007) for executions.
package ocsf

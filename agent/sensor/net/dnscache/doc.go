// Package dnscache names IP addresses from the DNS answers seen on the host, so
// a transfer to 203.0.113.7 can say it went to files.example.com. Parse reads
// one DNS answer, ParseQuery the question of a query; Cache keeps address ->
// name with a TTL and a size bound.
// Nothing here does I/O: the bytes come from the net sensor.
package dnscache

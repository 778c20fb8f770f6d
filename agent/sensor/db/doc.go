// Package db is the sensor for database connections: it hands the agent the
// bytes each side of a PostgreSQL or MySQL connection sends, from the socket
// for plaintext connections and from OpenSSL (uprobes on libssl) for TLS ones.
package db

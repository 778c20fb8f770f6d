package dbwire

// Detect recognises a database connection from the first bytes its client
// sent: a PostgreSQL startup packet, SSLRequest, GSSENCRequest,
// CancelRequest or direct TLS ClientHello (ALPN "postgresql"), or a
// MySQL/MariaDB handshake response or SSL request. It needs the first 8
// bytes for PostgreSQL and 36 for MySQL. Use it for connections on ports not
// configured as database ports.
func Detect(firstClientBytes []byte) (engine string, ok bool) {
	b := firstClientBytes
	if len(b) >= 8 && pgStartupPacket(b) || pgDirectTLS(b) {
		return EnginePostgres, true
	}
	if myHandshakeResponse(b) && b[3] == 1 {
		return EngineMySQL, true
	}
	return "", false
}

// DetectServer recognises a database connection from the first bytes its
// server sent: a MySQL/MariaDB greeting (the server speaks first there;
// PostgreSQL servers wait for the client). It needs the packet header and the
// version string, about 40 bytes.
func DetectServer(firstServerBytes []byte) (engine string, ok bool) {
	if myGreeting(firstServerBytes) {
		return EngineMySQL, true
	}
	return "", false
}

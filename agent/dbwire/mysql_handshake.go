package dbwire

import "encoding/binary"

// myGreeting reports whether b starts with a server greeting (protocol 10).
func myGreeting(b []byte) bool {
	if len(b) < 5 {
		return false
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	if b[3] != 0 || b[4] != 10 || n < 20 || n > myMaxHandshake {
		return false
	}
	// A printable version string ending in NUL.
	for i := 5; i < len(b) && i < 4+n; i++ {
		if b[i] == 0 {
			return i > 5
		}
		if b[i] < 0x20 || b[i] > 0x7e {
			return false
		}
	}
	return false
}

// myHandshakeResponse reports whether b starts with a HandshakeResponse41 or
// SSL request (sequence 1, or 2 after TLS).
func myHandshakeResponse(b []byte) bool {
	if len(b) < 4+32 {
		return false
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	if (b[3] != 1 && b[3] != 2) || n < 32 || n > myMaxHandshake {
		return false
	}
	caps := binary.LittleEndian.Uint32(b[4:])
	if caps&myClientProtocol41 == 0 {
		return false
	}
	// Filler, but for MariaDB's extended capabilities in the last four.
	for _, c := range b[4+9 : 4+28] {
		if c != 0 {
			return false
		}
	}
	return true
}

func (m *mysql) handshakeResponse(b []byte) {
	if len(b) < 32 {
		m.t.stats.ParseErrors++
		return
	}
	caps := binary.LittleEndian.Uint32(b)
	m.caps = caps
	if caps&1 == 0 { // not CLIENT_MYSQL: MariaDB extended capabilities
		m.mariaCaps = binary.LittleEndian.Uint32(b[28:])
	}
	if m.srvCaps != 0 {
		m.caps &= m.srvCaps
	}
	if caps&myClientSSL != 0 && len(b) == 32 {
		m.phase = myEncrypted
		m.t.encrypted(ReasonTLS)
		return
	}
	switch {
	case m.caps&myClientCompress != 0:
		m.compress = myClientCompress
	case m.caps&myClientZstd != 0:
		m.compress = myClientZstd
	}
	m.phase = myAuth
	user, rest, ok := cstring(b[32:])
	if !ok {
		return
	}
	m.t.sess.User = user
	switch {
	case caps&myClientPluginAuthLenenc != 0:
		n, k := lenenc(rest)
		if k == 0 || uint64(len(rest)-k) < n {
			return
		}
		rest = rest[k+int(n):]
	case caps&myClientSecureConn != 0:
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return
		}
		rest = rest[1+int(rest[0]):]
	default:
		_, rest, ok = cstring(rest)
		if !ok {
			return
		}
	}
	if caps&myClientConnectWithDB != 0 {
		if db, _, ok := cstring(rest); ok {
			m.t.sess.Database = db
		}
	}
}

func (m *mysql) greeting(b []byte) {
	_, rest, ok := cstring(b[1:])
	if !ok || len(rest) < 4+8+1+2 {
		return
	}
	rest = rest[4+8+1:]
	caps := uint32(binary.LittleEndian.Uint16(rest))
	if len(rest) >= 2+1+2+2 {
		caps |= uint32(binary.LittleEndian.Uint16(rest[5:])) << 16
	}
	m.srvCaps = caps
	m.phase = myGreeted
}

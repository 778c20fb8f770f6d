package dbwire

import (
	"bytes"
	"encoding/binary"
)

// PostgreSQL protocol codes in the startup packet.
const (
	pgProtocol3  = 196608
	pgSSLRequest = 80877103
	pgGSSENCReq  = 80877104
	pgCancelReq  = 80877102
	pgMaxStartup = 10000
	pgStartupHdr = 4
)

// pgStartupPacket reports whether b starts with a startup, SSL, GSS or cancel
// request.
func pgStartupPacket(b []byte) bool {
	n := binary.BigEndian.Uint32(b)
	code := binary.BigEndian.Uint32(b[4:])
	switch code {
	case pgSSLRequest, pgGSSENCReq:
		return n == 8
	case pgCancelReq:
		return n == 16
	case pgProtocol3:
		return n >= 8 && n <= pgMaxStartup
	}
	return false
}

// tlsClientHello reports whether b starts with a TLS handshake record
// holding a ClientHello.
func tlsClientHello(b []byte) bool {
	return len(b) >= 6 && b[0] == 0x16 && b[1] == 3 && b[5] == 1
}

// pgDirectTLS reports whether b starts with a ClientHello that asks for
// PostgreSQL by ALPN, as a direct TLS client sends.
func pgDirectTLS(b []byte) bool {
	return tlsClientHello(b) && bytes.Contains(b, []byte("\x0apostgresql"))
}

func (p *postgres) startup(body []byte) {
	if len(body) < 4 {
		return
	}
	switch binary.BigEndian.Uint32(body) {
	case pgSSLRequest, pgGSSENCReq:
		p.phase = pgAwaitTLS
		return
	case pgCancelReq:
		return
	case pgProtocol3:
	default:
		p.t.stats.ParseErrors++
		return
	}
	p.phase = pgNormal
	rest := body[4:]
	for len(rest) > 1 {
		k, r1, ok1 := cstring(rest)
		v, r2, ok2 := cstring(r1)
		if !ok1 || !ok2 {
			break
		}
		switch k {
		case "user":
			p.t.sess.User = v
		case "database":
			p.t.sess.Database = v
		}
		rest = r2
	}
	if p.t.sess.Database == "" {
		p.t.sess.Database = p.t.sess.User
	}
}

// encryptionAnswer follows the server's one-byte answer to SSLRequest or
// GSSENCRequest: 'S' or 'G' starts encryption, anything else (N) means the
// client sends its startup packet in the clear.
func (p *postgres) encryptionAnswer(answer byte) {
	switch answer {
	case 'S':
		p.phase = pgEncrypted
		p.t.encrypted(ReasonTLS)
	case 'G':
		p.phase = pgEncrypted
		p.t.encrypted(ReasonGSS)
	default:
		p.phase = pgStartup
	}
}

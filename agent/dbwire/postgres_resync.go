package dbwire

import (
	"bytes"
	"encoding/binary"
)

const pgMaxTagLen = 256

// resync finds where a chain of plausible messages starts in data.
func (p *postgres) resync(dir Direction, data []byte) int {
	if p.phase != pgNormal {
		return -1
	}
	for i := 0; i+pgHeaderLen <= len(data); i++ {
		if pgValidType(dir, data[i]) && p.chain(dir, data[i:], i == 0) {
			return i
		}
	}
	return -1
}

// chain reports whether data is a run of well-formed messages up to its end
// (the last may run past it), with at least one whose content could be
// checked, or, at the start of a capture, whole messages up to its end exactly
// (a false header's length would otherwise swallow the stream).
func (p *postgres) chain(dir Direction, data []byte, atStart bool) bool {
	strong, count, past := false, 0, false
	for len(data) > 0 {
		if len(data) < pgHeaderLen {
			return strong
		}
		typ := data[0]
		n := int(binary.BigEndian.Uint32(data[1:]))
		if !pgValidType(dir, typ) || n < 4 || n > pgMaxMessage {
			return false
		}
		body := data[pgHeaderLen:min(len(data), 1+n)]
		full := len(body) == n-4
		if !full && n > maxRunPast {
			// A false header tends to claim a huge length that would swallow
			// the stream; a real message this long is left for a later
			// capture to resync on.
			return false
		}
		ok, checked := pgPlausible(dir, typ, body, full, p.ncols)
		if !ok {
			return false
		}
		strong = strong || checked
		count++
		if count >= maxChain && strong {
			return true
		}
		if !full {
			past = true
			break
		}
		data = data[1+n:]
	}
	return strong || atStart && count > 0 && !past
}

// pgPlausible checks a message body; checked says the content was verified
// (not just the type and length).
func pgPlausible(dir Direction, typ byte, body []byte, full bool, ncols int) (ok, checked bool) {
	text := func(b []byte) bool {
		for _, c := range b {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
		}
		return true
	}
	if dir == ServerToClient {
		switch typ {
		case 'Z':
			return full && len(body) == 1 && (body[0] == 'I' || body[0] == 'T' || body[0] == 'E'), true
		case '1', '2', '3', 'n', 's', 'I':
			return full && len(body) == 0, true
		case 'C':
			if !full || len(body) < 2 || len(body) > pgMaxTagLen || body[len(body)-1] != 0 {
				return false, false
			}
			return text(body[:len(body)-1]) && body[0] >= 'A' && body[0] <= 'Z', true
		case 'D':
			if len(body) < 2 {
				return !full, false
			}
			nc := int(binary.BigEndian.Uint16(body))
			if ncols >= 0 {
				return nc == ncols, true
			}
			return true, false
		case 'E', 'N':
			if len(body) < 1 {
				return !full, false
			}
			return body[0] == 'S' || body[0] == 'V' || body[0] == 'C', full
		}
		return true, false
	}
	switch typ {
	case 'S', 'H', 'X', 'c':
		return full && len(body) == 0, true
	case 'Q':
		if full {
			return len(body) > 0 && body[len(body)-1] == 0 && text(body[:len(body)-1]), true
		}
		return text(body), len(body) >= 8
	case 'P':
		if !full {
			return true, false
		}
		_, rest, ok1 := cstring(body)
		q, rest, ok2 := cstring(rest)
		if !ok1 || !ok2 || len(rest) < 2 || !text([]byte(q)) {
			return false, false
		}
		return len(rest) == 2+4*int(binary.BigEndian.Uint16(rest)), true
	case 'E':
		if !full {
			return true, false
		}
		_, rest, ok := cstring(body)
		return ok && len(rest) == 4, true
	case 'D', 'C':
		if !full {
			return true, false
		}
		return len(body) >= 2 && (body[0] == 'S' || body[0] == 'P') && bytes.IndexByte(body[1:], 0) == len(body)-2, true
	}
	return true, false
}

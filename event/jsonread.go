package event

import (
	"unicode/utf16"
	"unicode/utf8"
)

// decoder reads JSON from data. Readers set bad and stop at the first thing
// they refuse; once bad, every reader returns without reading.
type decoder struct {
	data  []byte
	pos   int
	bad   bool
	depth int    // nesting of values skipped as unknown
	key   []byte // the key member just read
	buf   []byte // unescaped text of the last string with escapes
}

func (d *decoder) fail() { d.bad = true }

func (d *decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte, 0 at the end.
func (d *decoder) peek() byte {
	d.space()
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// member moves to the next member of an object whose '{' has been read:
// first says no member was read yet. It reads the key into d.key and the
// colon and reports true, or reads the closing '}' and reports false.
func (d *decoder) member(first bool) bool {
	if d.bad {
		return false
	}
	c := d.peek()
	switch {
	case c == '}':
		d.pos++
		return false
	case !first && c == ',':
		d.pos++
		c = d.peek()
	case !first:
		d.fail()
		return false
	}
	if c != '"' {
		d.fail()
		return false
	}
	d.key = d.quoted()
	if d.bad || d.peek() != ':' {
		d.fail()
		return false
	}
	d.pos++
	return true
}

// element moves to the next element of an array whose '[' has been read,
// reporting false after reading the closing ']'.
func (d *decoder) element(first bool) bool {
	if d.bad {
		return false
	}
	c := d.peek()
	switch {
	case c == ']':
		d.pos++
		return false
	case !first && c == ',':
		d.pos++
		c = d.peek()
	case !first:
		d.fail()
		return false
	}
	if c == ']' {
		d.fail()
		return false
	}
	return true
}

// unknown skips the value of a member whose key names no field. A key that
// could match a field ignoring case (encoding/json does) is refused: field
// names are lower case ASCII, so only keys with upper case or non-ASCII
// letters can.
func (d *decoder) unknown() {
	for _, c := range d.key {
		if 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf {
			d.fail()
			return
		}
	}
	d.skip()
}

// maxSkipDepth bounds the nesting of skipped values; encoding/json allows
// 10000 levels, deeper is refused here and left to it.
const maxSkipDepth = 1000

// skip reads and checks any value.
func (d *decoder) skip() {
	switch c := d.peek(); {
	case c == '"':
		d.quoted()
	case c == '{' || c == '[':
		d.depth++
		if d.depth > maxSkipDepth {
			d.fail()
			return
		}
		d.pos++
		if c == '{' {
			for first := true; d.member(first); first = false {
				d.skip()
			}
		} else {
			for first := true; d.element(first); first = false {
				d.skip()
			}
		}
		d.depth--
	case c == 't':
		d.literal("true")
	case c == 'f':
		d.literal("false")
	case c == 'n':
		d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		d.number()
	default:
		d.fail()
	}
}

func (d *decoder) literal(lit string) {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		d.fail()
		return
	}
	d.pos += len(lit)
}

// number reads a number as JSON spells it and returns its text.
func (d *decoder) number() []byte {
	data, start := d.data, d.pos
	i := start
	digits := func() bool {
		j := i
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case !digits():
		d.fail()
		return nil
	}
	if i < len(data) && data[i] == '.' {
		i++
		if !digits() {
			d.fail()
			return nil
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if !digits() {
			d.fail()
			return nil
		}
	}
	d.pos = i
	return data[start:i]
}

// plain marks the bytes that stand for themselves in a JSON string.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// quoted reads the string at d.pos and returns its text: a slice of data
// when it has no escapes, else d.buf. Invalid UTF-8 is refused.
func (d *decoder) quoted() []byte {
	data := d.data
	start := d.pos + 1
	i := start
	for i < len(data) {
		c := data[i]
		switch {
		case plain[c]:
			i++
		case c == '"':
			d.pos = i + 1
			return data[start:i]
		case c == '\\':
			d.buf = append(d.buf[:0], data[start:i]...)
			return d.unescape(i)
		case c < utf8.RuneSelf:
			d.fail() // a control character
			return nil
		default:
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n == 1 {
				d.fail()
				return nil
			}
			i += n
		}
	}
	d.fail()
	return nil
}

// unescape goes on with the string quoted began, from its first escape at
// i, into d.buf, replacing escapes as encoding/json does: a \u surrogate
// that does not pair with the next \u escape becomes U+FFFD.
func (d *decoder) unescape(i int) []byte {
	data, b := d.data, d.buf
	for i < len(data) {
		c := data[i]
		switch {
		case plain[c]:
			b = append(b, c)
			i++
		case c == '"':
			d.pos = i + 1
			d.buf = b
			return b
		case c == '\\':
			if i+1 >= len(data) {
				d.fail()
				return nil
			}
			switch e := data[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(data[i+2:])
				if r < 0 {
					d.fail()
					return nil
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if r2 := u4(data[i:]); r2 >= 0 {
						if p := utf16.DecodeRune(r, r2); p != utf8.RuneError {
							b = utf8.AppendRune(b, p)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				d.fail()
				return nil
			}
			i += 2
		case c < utf8.RuneSelf:
			d.fail()
			return nil
		default:
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n == 1 {
				d.fail()
				return nil
			}
			b = append(b, data[i:i+n]...)
			i += n
		}
	}
	d.fail()
	return nil
}

// u4 reads a \uXXXX escape at the start of s, -1 if there is none.
func u4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	return hex4(s[2:])
}

// hex4 reads four hex digits at the start of s, -1 if there are not.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

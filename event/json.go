package event

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends ev's JSON to dst: byte for byte what json.Marshal
// produces (TestAppendJSONMatchesMarshal holds it to that), without
// reflection. The agent encodes every event it emits, so this is on its hot
// path; receivers read it with Decode, which matches json.Unmarshal. The
// per-field code (json_gen.go) is generated from event.go; the writers here
// are what it calls.
func AppendJSON(dst []byte, ev *Event) ([]byte, error) {
	e := enc{b: dst}
	e.event(ev)
	if e.err != nil {
		return dst, e.err
	}
	return e.b, nil
}

type enc struct {
	b     []byte
	first bool // no field written yet in the current object
	err   error
}

func (e *enc) byte(c byte) {
	e.b = append(e.b, c)
	e.first = c == '{'
}

func (e *enc) open() { e.byte('{') }

// key writes a member's key, given quoted with its colon (`"id":`, as the
// generated code spells it): one append instead of four.
func (e *enc) key(k string) {
	if !e.first {
		e.b = append(e.b, ',')
	}
	e.first = false
	e.b = append(e.b, k...) // keys are constant ASCII names needing no escape
}

// mapKey writes a map's key, which may need escaping.
func (e *enc) mapKey(k string) {
	if !e.first {
		e.b = append(e.b, ',')
	}
	e.first = false
	e.b = appendString(e.b, k)
	e.b = append(e.b, ':')
}

func (e *enc) str(k, v string, omitEmpty bool) {
	if omitEmpty && v == "" {
		return
	}
	e.key(k)
	e.b = appendString(e.b, v)
}

func (e *enc) uint(k string, v uint64, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	e.key(k)
	e.b = strconv.AppendUint(e.b, v, 10)
}

func (e *enc) int(k string, v int64, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	e.key(k)
	e.b = strconv.AppendInt(e.b, v, 10)
}

func (e *enc) bool(k string, v, omitEmpty bool) {
	if omitEmpty && !v {
		return
	}
	e.key(k)
	e.b = strconv.AppendBool(e.b, v)
}

func (e *enc) float(k string, v float64, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	e.key(k)
	e.b = appendFloat(e.b, v, &e.err)
}

func (e *enc) time(k string, t time.Time, omitZero bool) {
	if omitZero && t.IsZero() {
		return
	}
	e.key(k)
	if y := t.Year(); y < 0 || y >= 10000 {
		if e.err == nil {
			e.err = fmt.Errorf("json: error calling MarshalJSON for type time.Time: year %d outside of range [0,9999]", y)
		}
		e.null()
		return
	}
	e.b = append(e.b, '"')
	e.b = t.AppendFormat(e.b, time.RFC3339Nano)
	e.b = append(e.b, '"')
}

func (e *enc) strings(k string, v []string, omitEmpty bool) {
	if omitEmpty && len(v) == 0 {
		return
	}
	e.key(k)
	e.stringSlice(v)
}

func (e *enc) stringSlice(v []string) {
	if v == nil {
		e.null()
		return
	}
	e.b = append(e.b, '[')
	for i, s := range v {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = appendString(e.b, s)
	}
	e.b = append(e.b, ']')
}

func (e *enc) null() { e.b = append(e.b, `null`...) }

// The map writers write a map's members in key order, as encoding/json
// does.

func (e *enc) stringMap(k string, m map[string]string, omitEmpty bool) {
	if omitEmpty && len(m) == 0 {
		return
	}
	e.key(k)
	if m == nil {
		e.null()
		return
	}
	e.open()
	var buf [8]string
	for _, k := range sortedKeys(m, buf[:0]) {
		e.mapKey(k)
		e.b = appendString(e.b, m[k])
	}
	e.byte('}')
}

func (e *enc) uintMap(k string, m map[string]uint64, omitEmpty bool) {
	if omitEmpty && len(m) == 0 {
		return
	}
	e.key(k)
	if m == nil {
		e.null()
		return
	}
	e.open()
	var buf [8]string
	for _, k := range sortedKeys(m, buf[:0]) {
		e.mapKey(k)
		e.b = strconv.AppendUint(e.b, m[k], 10)
	}
	e.byte('}')
}

func (e *enc) stringsMap(k string, m map[string][]string, omitEmpty bool) {
	if omitEmpty && len(m) == 0 {
		return
	}
	e.key(k)
	if m == nil {
		e.null()
		return
	}
	e.open()
	var buf [8]string
	for _, k := range sortedKeys(m, buf[:0]) {
		e.mapKey(k)
		e.stringSlice(m[k])
	}
	e.byte('}')
}

// sortedKeys appends m's keys to keys, sorted: given an array on the
// caller's stack, a small map's keys cost no allocation.
func sortedKeys[V any](m map[string]V, keys []string) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendFloat formats like encoding/json: shortest representation, %f
// notation between 1e-6 and 1e21, exponent without a leading zero beyond.
func appendFloat(b []byte, f float64, errp *error) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		if *errp == nil {
			*errp = errors.New("json: unsupported value: " + strconv.FormatFloat(f, 'g', -1, 64))
		}
		return append(b, `null`...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// plainJSON holds the bytes appendString copies as they are: ASCII but
// control characters, quote, backslash and the HTML-unsafe <, > and &.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString quotes s as encoding/json does: HTML-safe (<, > and & as
// \u escapes), invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	// Most strings (paths, names, statements) need no escape: one scan
	// and one copy.
	start := 0
	for start < len(s) && plainJSON[s[start]] {
		start++
	}
	if start == len(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	b = append(b, s[:start]...)
	for i := start; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

package event

import (
	"math"
	"strconv"
	"time"
)

// decodeFast fills ev from data without reflection and reports whether it
// could. When it reports true, ev is exactly what json.Unmarshal(data, ev)
// gives a zero ev and json.Unmarshal would not fail; data is then also valid
// UTF-8. Whatever it is not sure of (a syntax or type error, a key that
// differs from a field name only in case, invalid UTF-8, a null in a list
// of strings, deep nesting) makes it report false, and the caller decodes with
// encoding/json instead, which sets the semantics and the error messages.
// Agents only send what AppendJSON writes, so that path is rare.
//
// The mapping of member names to fields (decode_gen.go) is generated from
// event.go; the readers here are what it calls. TestDecodeFast* fill every
// field through reflection and fail for one it does not read.
func decodeFast(data []byte, ev *Event) bool {
	d := decoder{data: data}
	if d.peek() != '{' {
		return false
	}
	d.pos++
	d.event(ev)
	d.space()
	return !d.bad && d.pos == len(d.data)
}

// The value readers below follow encoding/json: null leaves a string,
// number, bool or time as it was and sets a pointer, slice or map to nil;
// an object read into a non-nil pointer or map adds to what it points to
// (a duplicate key merges).

func (d *decoder) str(p *string) {
	switch d.peek() {
	case '"':
		if s := d.quoted(); !d.bad {
			*p = string(s)
		}
	case 'n':
		d.literal("null")
	default:
		d.fail()
	}
}

func (d *decoder) kind(p *Kind) {
	if d.peek() != '"' {
		d.str((*string)(p))
		return
	}
	s := d.quoted()
	if d.bad {
		return
	}
	// The kinds the agent sends, without a copy each.
	for _, k := range Kinds {
		if string(s) == string(k) {
			*p = k
			return
		}
	}
	*p = Kind(s)
}

// uint reads an unsigned integer up to max; ok is false for null.
func (d *decoder) uint(max uint64) (v uint64, ok bool) {
	switch c := d.peek(); {
	case c == 'n':
		d.literal("null")
		return 0, false
	case '0' <= c && c <= '9':
		v, ok = digits(d.number(), max)
		if !ok {
			d.fail()
		}
		return v, ok
	}
	d.fail() // a negative number too: encoding/json refuses it
	return 0, false
}

// digits reads s, a JSON number, as an unsigned integer up to max: false
// for a fraction, an exponent, a sign or overflow, as strconv.ParseUint.
func digits(s []byte, max uint64) (v uint64, ok bool) {
	if len(s) == 0 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' || v > math.MaxUint64/10 || v*10+uint64(c-'0') < v*10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, v <= max
}

func (d *decoder) uint64(p *uint64) {
	if v, ok := d.uint(math.MaxUint64); ok {
		*p = v
	}
}

func (d *decoder) uint32(p *uint32) {
	if v, ok := d.uint(math.MaxUint32); ok {
		*p = uint32(v)
	}
}

//nolint:unused // the generator calls it for uint8 fields, of which there are none today
func (d *decoder) uint8(p *uint8) {
	if v, ok := d.uint(math.MaxUint8); ok {
		*p = uint8(v)
	}
}

func (d *decoder) uint16(p *uint16) {
	if v, ok := d.uint(math.MaxUint16); ok {
		*p = uint16(v)
	}
}

func (d *decoder) int32(p *int32) {
	switch c := d.peek(); {
	case c == 'n':
		d.literal("null")
	case c == '-':
		s := d.number()
		if d.bad {
			return
		}
		v, ok := digits(s[1:], -math.MinInt32)
		if !ok {
			d.fail()
			return
		}
		*p = int32(-int64(v))
	case '0' <= c && c <= '9':
		v, ok := digits(d.number(), math.MaxInt32)
		if !ok {
			d.fail()
			return
		}
		*p = int32(v)
	default:
		d.fail()
	}
}

func (d *decoder) float64(p *float64) {
	switch c := d.peek(); {
	case c == 'n':
		d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		s := d.number()
		if d.bad {
			return
		}
		f, err := strconv.ParseFloat(string(s), 64)
		if err != nil {
			d.fail()
			return
		}
		*p = f
	default:
		d.fail()
	}
}

func (d *decoder) bool(p *bool) {
	switch d.peek() {
	case 't':
		d.literal("true")
		if !d.bad {
			*p = true
		}
	case 'f':
		d.literal("false")
		if !d.bad {
			*p = false
		}
	case 'n':
		d.literal("null")
	default:
		d.fail()
	}
}

// time hands the string, quotes and escapes included, to
// time.Time.UnmarshalJSON as encoding/json does.
func (d *decoder) time(p *time.Time) {
	switch d.peek() {
	case '"':
		start := d.pos
		d.quoted()
		if !d.bad && p.UnmarshalJSON(d.data[start:d.pos]) != nil {
			d.fail()
		}
	case 'n':
		d.literal("null")
	default:
		d.fail()
	}
}

// strings reads an array of strings into a new slice, empty and not nil for
// [] as encoding/json makes it.
func (d *decoder) strings(p *[]string) {
	switch d.peek() {
	case 'n':
		d.literal("null")
		*p = nil
		return
	case '[':
		d.pos++
	default:
		d.fail()
		return
	}
	var arr [16]string
	s := arr[:0]
	for first := true; d.element(first); first = false {
		if d.peek() != '"' {
			d.fail()
			return
		}
		s = append(s, string(d.quoted()))
	}
	if d.bad {
		return
	}
	*p = append(make([]string, 0, len(s)), s...)
}

// object reads the '{' of an object, or null; it reports whether an object
// follows.
func (d *decoder) object() (ok, null bool) {
	switch d.peek() {
	case '{':
		d.pos++
		return true, false
	case 'n':
		d.literal("null")
		return false, !d.bad
	}
	d.fail()
	return false, false
}

// open reads null, setting *p to nil, or the '{' of an object, allocating
// *p if nil; it reports whether the object's members follow.
func open[T any](d *decoder, p **T) bool {
	ok, null := d.object()
	if null {
		*p = nil
	}
	if ok && *p == nil {
		*p = new(T)
	}
	return ok
}

// openMap is open for a map: an object adds to the map there is.
func openMap[V any](d *decoder, p *map[string]V) bool {
	ok, null := d.object()
	if null {
		*p = nil
	}
	if ok && *p == nil {
		*p = make(map[string]V)
	}
	return ok
}

// Each map value is read into a zero value, so a null stores that.

func (d *decoder) stringMap(p *map[string]string) {
	if openMap(d, p) {
		for first := true; d.member(first); first = false {
			k, v := string(d.key), ""
			d.str(&v)
			(*p)[k] = v
		}
	}
}

func (d *decoder) uint64Map(p *map[string]uint64) {
	if openMap(d, p) {
		for first := true; d.member(first); first = false {
			k, v := string(d.key), uint64(0)
			d.uint64(&v)
			(*p)[k] = v
		}
	}
}

func (d *decoder) stringsMap(p *map[string][]string) {
	if openMap(d, p) {
		for first := true; d.member(first); first = false {
			k, v := string(d.key), []string(nil)
			d.strings(&v)
			(*p)[k] = v
		}
	}
}

package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The variants below rewrite JSON as a peer other than the agent could send
// it, for the decoder tests to read.

// jnode is a JSON value kept with its member order, to write variants of.
type jnode struct {
	kind byte   // '{', '[', '"', or 'l' for a number or literal
	text string // the string, number or literal
	keys []string
	vals []*jnode
}

func parseTree(t testing.TB, data []byte) *jnode {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var read func() *jnode
	read = func() *jnode {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		switch tok := tok.(type) {
		case json.Delim:
			n := &jnode{kind: byte(tok)}
			for dec.More() {
				if n.kind == '{' {
					k, err := dec.Token()
					if err != nil {
						t.Fatal(err)
					}
					n.keys = append(n.keys, k.(string))
				}
				n.vals = append(n.vals, read())
			}
			if _, err := dec.Token(); err != nil {
				t.Fatal(err)
			}
			return n
		case string:
			return &jnode{kind: '"', text: tok}
		case json.Number:
			return &jnode{kind: 'l', text: tok.String()}
		case bool:
			return &jnode{kind: 'l', text: strconv.FormatBool(tok)}
		case nil:
			return &jnode{kind: 'l', text: "null"}
		}
		t.Fatalf("unexpected token %v", tok)
		return nil
	}
	return read()
}

// perturb returns a copy of n with members reordered, unknown, null and
// duplicate members added, numbers respelled and, if recase, keys in other
// case, each at random.
func perturb(r *rand.Rand, n *jnode, recase bool) *jnode {
	c := *n
	switch n.kind {
	case '[':
		c.vals = make([]*jnode, len(n.vals))
		for i, v := range n.vals {
			c.vals[i] = perturb(r, v, recase)
		}
	case '{':
		c.keys, c.vals = nil, nil
		add := func(k string, v *jnode) {
			c.keys = append(c.keys, k)
			c.vals = append(c.vals, v)
		}
		for i, k := range n.keys {
			v := perturb(r, n.vals[i], recase)
			switch r.IntN(12) {
			case 0: // null before: the value after decides
				add(k, &jnode{kind: 'l', text: "null"})
				add(k, v)
			case 1: // null after
				add(k, v)
				add(k, &jnode{kind: 'l', text: "null"})
			case 2: // duplicate with another value before
				add(k, other(r, v))
				add(k, v)
			case 3:
				add(k, v)
				add(k, other(r, v))
			case 4: // a key in other case
				if recase && k != "" {
					add(strings.ToUpper(k[:1])+k[1:], v)
				} else {
					add(k, v)
				}
			default:
				add(k, v)
			}
			if r.IntN(10) == 0 {
				add(fmt.Sprintf("x_unknown%d", r.IntN(3)), junk(r, 3))
			}
		}
		r.Shuffle(len(c.keys), func(i, j int) {
			c.keys[i], c.keys[j] = c.keys[j], c.keys[i]
			c.vals[i], c.vals[j] = c.vals[j], c.vals[i]
		})
	case 'l':
		if f, err := strconv.ParseFloat(n.text, 64); err == nil && strings.ContainsAny(n.text, ".eE") && r.IntN(2) == 0 {
			c.text = strconv.FormatFloat(f, "eE"[r.IntN(2)], -1, 64)
		}
	}
	return &c
}

// other is a value of the same shape as v, for a duplicate key.
func other(r *rand.Rand, v *jnode) *jnode {
	switch v.kind {
	case '"':
		if isTime(v.text) {
			return &jnode{kind: '"', text: "2001-02-03T04:05:06.7+08:00"}
		}
		return &jnode{kind: '"', text: strs[r.IntN(len(strs))]}
	case 'l':
		switch v.text {
		case "true", "false", "null":
			return &jnode{kind: 'l', text: [...]string{"true", "false", "null"}[r.IntN(3)]}
		}
		return &jnode{kind: 'l', text: strconv.Itoa(r.IntN(200))}
	case '{': // a subset of the members: objects and maps merge
		c := &jnode{kind: '{'}
		for i, k := range v.keys {
			if r.IntN(2) == 0 {
				c.keys = append(c.keys, k)
				c.vals = append(c.vals, other(r, v.vals[i]))
			}
		}
		return c
	case '[':
		c := &jnode{kind: '['}
		for _, e := range v.vals[:r.IntN(len(v.vals)+1)] {
			c.vals = append(c.vals, other(r, e))
		}
		return c
	}
	return v
}

func isTime(s string) bool {
	if len(s) < 20 || s[4] != '-' {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// junk is any JSON value, for an unknown member.
func junk(r *rand.Rand, depth int) *jnode {
	switch k := r.IntN(8); {
	case k == 0 && depth > 0:
		n := &jnode{kind: '{'}
		for range r.IntN(3) {
			n.keys = append(n.keys, strs[r.IntN(len(strs))])
			n.vals = append(n.vals, junk(r, depth-1))
		}
		return n
	case k == 1 && depth > 0:
		n := &jnode{kind: '['}
		for range r.IntN(3) {
			n.vals = append(n.vals, junk(r, depth-1))
		}
		return n
	case k == 2:
		return &jnode{kind: '"', text: strs[r.IntN(len(strs))]}
	default:
		lits := []string{"true", "false", "null", "0", "-0", "12", "-3.5e-7", "1E+400", "0.000", "18446744073709551616"}
		return &jnode{kind: 'l', text: lits[r.IntN(len(lits))]}
	}
}

// emit appends n as JSON with random white space and escapes.
func (n *jnode) emit(r *rand.Rand, b []byte) []byte {
	ws := func() {
		for r.IntN(6) == 0 {
			b = append(b, " \t\r\n"[r.IntN(4)])
		}
	}
	ws()
	switch n.kind {
	case '"':
		b = quoteRandomly(r, b, n.text)
	case 'l':
		b = append(b, n.text...)
	case '{', '[':
		b = append(b, n.kind)
		for i, v := range n.vals {
			if i > 0 {
				b = append(b, ',')
			}
			if n.kind == '{' {
				ws()
				b = quoteRandomly(r, b, n.keys[i])
				ws()
				b = append(b, ':')
			}
			b = v.emit(r, b)
		}
		ws()
		b = append(b, n.kind+2) // } and ] follow { and [ by two
	}
	ws()
	return b
}

// quoteRandomly writes s as a JSON string, escaping runes that need not be
// at random: \u with either case of hex digits, surrogate pairs beyond the
// BMP, and the short escapes.
// Times are left alone mostly: encoding/json hands them to
// time.Time.UnmarshalJSON unescaped, which refuses escapes.
func quoteRandomly(r *rand.Rand, b []byte, s string) []byte {
	if r.IntN(2) == 0 || isTime(s) && r.IntN(10) > 0 {
		return appendString(b, s)
	}
	b = append(b, '"')
	hex := "0123456789abcdef"
	if r.IntN(2) == 0 {
		hex = "0123456789ABCDEF"
	}
	u := func(r rune) {
		b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
	}
	for _, c := range s {
		short := ""
		if i := strings.IndexRune("\"\\/\b\f\n\r\t", c); i >= 0 {
			short = `\` + `"\/bfnrt`[i:i+1]
		}
		switch {
		case short != "" && r.IntN(2) == 0:
			b = append(b, short...)
		case c < 0x20 || c == '"' || c == '\\' || r.IntN(4) == 0:
			if c > 0xffff {
				c -= 0x10000
				u(0xd800 + c>>10)
				u(0xdc00 + c&0x3ff)
			} else {
				u(c)
			}
		default:
			b = utf8.AppendRune(b, c)
		}
	}
	return append(b, '"')
}

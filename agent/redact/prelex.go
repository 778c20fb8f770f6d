package redact

import (
	"strings"

	sqllexer "github.com/DataDog/go-sqllexer"
)

// The pre-lex fast path answers a repeated statement without running the
// lexer; its contract, and why it is safe, is in the package documentation.

// litSpan is one literal the scan found: sql[start:end].
type litSpan struct {
	start, end int32
	str        bool // a quoted string; else an unsigned number
}

// prelexMark precedes a literal's kind ('n' or 's') in a key. Eligible
// text has no control characters but white space, so it cannot collide.
const prelexMark = 0x01

// prelexEntry is what the fast path needs for a key.
type prelexEntry struct {
	sh  *shape
	ids []prelexID // sh.ids with token indexes turned into literal numbers
}

// prelexID is an idRef by the literal's position among the scan's spans.
type prelexID struct {
	column string
	lit    int
	signed bool // the lexer's literal starts with the sign before the span
}

// Byte classes for prelexScan.
const (
	pcStop   = iota // not eligible
	pcSpace         // space, tab, newline, carriage return
	pcWord          // letter or underscore
	pcDigit         // 0-9
	pcQuote         // '
	pcPunct         // punctuation and operators that need no care
	pcDash          // - (-- starts a comment)
	pcSlash         // / (/* starts a comment)
	pcDot           // .
	pcDollar        // $ ($n only)
)

var prelexClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			t[c] = pcSpace
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_':
			t[c] = pcWord
		case '0' <= c && c <= '9':
			t[c] = pcDigit
		case c == '\'':
			t[c] = pcQuote
		case c == '-':
			t[c] = pcDash
		case c == '/':
			t[c] = pcSlash
		case c == '.':
			t[c] = pcDot
		case c == '$':
			t[c] = pcDollar
		case strings.IndexByte("(),;=<>+*%|!:?&^~[]{}@", byte(c)) >= 0:
			t[c] = pcPunct
		}
		// Everything else stops the scan: " ` # \ and other control
		// characters, non-ASCII bytes.
	}
	return t
}()

// literalMayFollow reports whether a literal (or $n) may start right after
// c: c ends any token before it, cannot join the literal in one token, and
// is no string prefix. A sign may be taken into a number by the lexer;
// the entry's check records that.
func literalMayFollow(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '(', ',', '=', '<', '>', '+', '-', '*', '|', '[':
		return true
	}
	return false
}

// numberMayEnd reports whether the lexer ends a number (or $n) before c: c
// is no digit, letter (exponent), dot or anything that could carry on an
// odd token.
func numberMayEnd(c byte) bool {
	switch prelexClass[c] {
	case pcSpace, pcPunct, pcDash, pcSlash:
		return true
	}
	return false
}

// prelexScan scans sql (trimmed, not truncated) into s.pkey and s.spans.
// ok is false when sql is outside the subset the fast path handles.
func (s *scratch) prelexScan(d Dialect, sql string) (key []byte, spans []litSpan, ok bool) {
	k := append(s.pkey[:0], byte(d))
	sp := s.spans[:0]
	n := len(sql)
	copied := 0 // sql[:copied] is in k
	defer func() { s.pkey, s.spans = k, sp }()
	for i := 0; i < n; {
		c := sql[i]
		switch prelexClass[c] {
		case pcSpace, pcPunct:
			i++
		case pcWord:
			i++
			for i < n && (prelexClass[sql[i]] == pcWord || prelexClass[sql[i]] == pcDigit) {
				i++
			}
		case pcDash:
			if i+1 < n && sql[i+1] == '-' {
				return nil, nil, false
			}
			i++
		case pcSlash:
			if i+1 < n && sql[i+1] == '*' {
				return nil, nil, false
			}
			i++
		case pcDot:
			// MySQL's lexer joins "a . b" into one name; a dot before a
			// digit makes .5 or a name's part.
			if i > 0 && prelexClass[sql[i-1]] == pcSpace ||
				i+1 < n && (prelexClass[sql[i+1]] == pcSpace || prelexClass[sql[i+1]] == pcDigit) {
				return nil, nil, false
			}
			i++
		case pcDollar:
			// $n, kept in the key: its number is part of the shape.
			if i > 0 && !literalMayFollow(sql[i-1]) || i+1 >= n || prelexClass[sql[i+1]] != pcDigit {
				return nil, nil, false
			}
			i += 2
			for i < n && prelexClass[sql[i]] == pcDigit {
				i++
			}
			if i < n && !numberMayEnd(sql[i]) {
				return nil, nil, false
			}
		case pcDigit:
			// Digits not inside a word: a number, digits[.digits]. A
			// leading 0 followed by a digit is octal to the lexer.
			if i > 0 && !literalMayFollow(sql[i-1]) || c == '0' && i+1 < n && prelexClass[sql[i+1]] == pcDigit {
				return nil, nil, false
			}
			j := i + 1
			for j < n && prelexClass[sql[j]] == pcDigit {
				j++
			}
			if j < n && sql[j] == '.' {
				j++
				if j >= n || prelexClass[sql[j]] != pcDigit {
					return nil, nil, false
				}
				for j < n && prelexClass[sql[j]] == pcDigit {
					j++
				}
			}
			if j < n && !numberMayEnd(sql[j]) {
				return nil, nil, false
			}
			k = append(k, sql[copied:i]...)
			k = append(k, prelexMark, 'n')
			sp = append(sp, litSpan{start: int32(i), end: int32(j)})
			i, copied = j, j
		case pcQuote:
			if i > 0 && !literalMayFollow(sql[i-1]) {
				return nil, nil, false
			}
			j := i + 1
			for {
				if j >= n {
					return nil, nil, false // unterminated: cut text
				}
				b := sql[j]
				if b == '\'' {
					if j+1 < n && sql[j+1] == '\'' {
						j += 2
						continue
					}
					j++
					break
				}
				// Inside the quotes anything printable but a backslash
				// (an escape in MySQL, and in PostgreSQL under
				// standard_conforming_strings=off).
				if b == '\\' || b >= 0x7f || b < 0x20 && prelexClass[b] != pcSpace {
					return nil, nil, false
				}
				j++
			}
			k = append(k, sql[copied:i]...)
			k = append(k, prelexMark, 's')
			sp = append(sp, litSpan{start: int32(i), end: int32(j), str: true})
			i, copied = j, j
		default:
			return nil, nil, false
		}
	}
	k = append(k, sql[copied:]...)
	if len(k) > maxShapeKey {
		return nil, nil, false
	}
	return k, sp, true
}

// result is the Result of sql, whose scan gave spans, from e.
func (e *prelexEntry) result(r *Redactor, d Dialect, sql string, spans []litSpan) Result {
	res := e.sh.base(false)
	applyParams(&res, e.sh.params)
	for _, id := range e.ids {
		r.AddIdentifier(&res, id.column, literalValue(d, spanToken(sql, spans[id.lit], id.signed)))
	}
	return res
}

// spanToken is the literal token the lexer makes of sp, for literalValue.
func spanToken(sql string, sp litSpan, signed bool) token {
	if sp.str {
		return token{kind: kLiteral, off: sp.start, val: "?", raw: sql[sp.start:sp.end], typ: sqllexer.STRING}
	}
	start := sp.start
	if signed {
		start--
	}
	return token{kind: kLiteral, off: start, val: "?", raw: sql[start:sp.end], typ: sqllexer.NUMBER}
}

// learnPrelex caches sh under key when the lexer's literals in toks are
// exactly the scan's spans: same number, kinds and places (a number may
// have taken the sign just before it). Anything else leaves the key
// uncached, to go the full way each time.
func (r *Redactor) learnPrelex(key []byte, spans []litSpan, sql string, toks []token, sh *shape) {
	var signed []bool // by literal number, allocated only if needed
	lit := 0
	for _, t := range toks {
		if t.kind != kLiteral {
			continue
		}
		if lit >= len(spans) {
			return
		}
		sp := spans[lit]
		want := spanToken(sql, sp, false)
		switch {
		case t.typ == want.typ && t.off == want.off && t.raw == want.raw:
		case !sp.str && t.typ == sqllexer.NUMBER && sp.start > 0 && t.off == sp.start-1 &&
			(sql[sp.start-1] == '-' || sql[sp.start-1] == '+') && t.raw == sql[sp.start-1:sp.end]:
			if signed == nil {
				signed = make([]bool, len(spans))
			}
			signed[lit] = true
		default:
			return
		}
		lit++
	}
	if lit != len(spans) {
		return
	}
	e := &prelexEntry{sh: sh}
	for _, id := range sh.ids {
		if id.tok < 0 || id.tok >= len(toks) || toks[id.tok].kind != kLiteral {
			return
		}
		n := 0
		for _, t := range toks[:id.tok] {
			if t.kind == kLiteral {
				n++
			}
		}
		e.ids = append(e.ids, prelexID{column: id.column, lit: n, signed: signed != nil && signed[n]})
	}
	r.prelex.put(key, e)
}

package redact

import (
	"strings"

	sqllexer "github.com/DataDog/go-sqllexer"
)

// Aliases for the lexer's token types used here.
const (
	eof         = sqllexer.EOF
	punctuation = sqllexer.PUNCTUATION
)

// kind is what a significant token means to the redactor.
type kind uint8

const (
	kWord    kind = iota // keyword or identifier
	kIdent               // identifier (possibly qualified)
	kLiteral             // literal value, rendered as ?
	kParam               // bind placeholder: $n or MySQL ?
	kFunc                // function name (followed by a parenthesis)
	kOther               // operator, punctuation, * ...
)

// token is one significant token. raw holds a literal's text for hashing and
// is never rendered.
type token struct {
	kind  kind
	off   int32  // byte offset of raw in the statement (literals only)
	val   string // rendered text ("?" for literals)
	raw   string // literal source text
	typ   sqllexer.TokenType
	param int // placeholder number (kParam)
}

func isWord(t token) bool { return t.kind == kWord || t.kind == kIdent }

func dbms(d Dialect) sqllexer.DBMSType {
	if d == MySQL {
		return sqllexer.DBMSMySQL
	}
	return sqllexer.DBMSPostgres
}

func newLexer(d Dialect, sql string) *sqllexer.Lexer {
	return sqllexer.New(sql, sqllexer.WithDBMS(dbms(d)))
}

// lex appends the significant tokens of sql to toks with literals marked,
// or returns false when some text cannot be classified safely.
func lex(toks []token, d Dialect, sql string) ([]token, bool) {
	return lexWith(toks, d, sql, newLexer(d, sql))
}

// lexAlt lexes with the opposite backslash convention (for PostgreSQL: as if
// standard_conforming_strings were off; for MySQL: NO_BACKSLASH_ESCAPES).
func lexAlt(toks []token, d Dialect, sql string) ([]token, bool) {
	if d == MySQL {
		// Oracle's lexer takes backslashes literally and "..." as a quoted
		// name; that differs from MySQL only when the text has double quotes,
		// which then fails closed (rare, and safe).
		return lexWith(toks, d, sql, sqllexer.New(sql, sqllexer.WithDBMS(sqllexer.DBMSOracle)))
	}
	return lexWith(toks, d, sql, sqllexer.New(sql))
}

func lexWith(toks []token, d Dialect, sql string, l *sqllexer.Lexer) ([]token, bool) {
	pos := 0
	nparam := 0
	adjacent := false // no white space or comment since the previous token
	for {
		t := l.Scan()
		if t.Type == sqllexer.EOF {
			break
		}
		pos += len(t.Value)
		v := t.Value
		switch t.Type {
		case sqllexer.SPACE, sqllexer.COMMENT, sqllexer.MULTILINE_COMMENT:
			if d == Postgres && t.Type == sqllexer.MULTILINE_COMMENT && strings.Contains(v[2:], "/*") {
				// PostgreSQL nests block comments and the lexer does not:
				// what it would take as text after the first */ is still
				// comment, and may hold anything.
				return toks, false
			}
			adjacent = false
			continue
		case sqllexer.UNKNOWN:
			return toks, false
		case sqllexer.ERROR:
			// Unterminated quote, comment or dollar string: the lexer read to
			// the end, so it is cut text. Report it as one literal.
			if pos != len(sql) {
				return toks, false
			}
			if strings.HasPrefix(v, "/*") {
				continue
			}
			if strings.HasPrefix(v, "@@") {
				return toks, false
			}
			toks = append(toks, token{kind: kLiteral, off: int32(pos - len(v)), val: "?", typ: t.Type})
		case sqllexer.STRING, sqllexer.INCOMPLETE_STRING, sqllexer.NUMBER,
			sqllexer.DOLLAR_QUOTED_STRING, sqllexer.DOLLAR_QUOTED_FUNCTION:
			if t.Type == sqllexer.STRING || t.Type == sqllexer.INCOMPLETE_STRING {
				// Drop a prefix glued to the quote: E'', B'', X'', N'', _utf8mb4''.
				if n := len(toks); n > 0 && adjacent && toks[n-1].kind == kIdent && isStringPrefix(toks[n-1].val) {
					toks = toks[:n-1]
				}
			}
			if t.Type == sqllexer.NUMBER && (v[0] == '-' || v[0] == '+') && len(toks) > 0 && endsValue(toks[len(toks)-1]) {
				// "a -1" is a subtraction, not a negative literal.
				toks = append(toks, token{kind: kOther, val: v[:1], typ: sqllexer.OPERATOR})
				v = v[1:]
			}
			if t.Type == sqllexer.NUMBER && len(toks) > 0 && adjacent && toks[len(toks)-1].val == "." {
				toks = toks[:len(toks)-1] // .5
			}
			toks = append(toks, token{kind: kLiteral, off: int32(pos - len(v)), val: "?", raw: v, typ: t.Type})
		case sqllexer.BOOLEAN, sqllexer.NULL:
			toks = append(toks, token{kind: kWord, val: v, typ: t.Type})
		case sqllexer.POSITIONAL_PARAMETER:
			n := 0
			for _, c := range v[1:] {
				n = n*10 + int(c-'0')
				if n > 1<<20 {
					break
				}
			}
			toks = append(toks, token{kind: kParam, val: v, typ: t.Type, param: n})
		case sqllexer.BIND_PARAMETER, sqllexer.SYSTEM_VARIABLE:
			toks = append(toks, token{kind: kWord, val: v, typ: t.Type})
		case sqllexer.IDENT, sqllexer.QUOTED_IDENT:
			if d == MySQL && t.Type == sqllexer.QUOTED_IDENT && strings.HasPrefix(v, `"`) {
				// A double-quoted MySQL "identifier" is a string unless
				// ANSI_QUOTES is on: treat it as a value.
				toks = append(toks, token{kind: kLiteral, off: int32(pos - len(v)), val: "?", raw: v, typ: sqllexer.STRING})
				break
			}
			if strings.ContainsAny(v, "?") && t.Type == sqllexer.IDENT {
				return toks, false
			}
			toks = append(toks, token{kind: kIdent, val: v, typ: t.Type})
		case sqllexer.FUNCTION:
			toks = append(toks, token{kind: kFunc, val: v, typ: t.Type})
		case sqllexer.COMMAND, sqllexer.KEYWORD, sqllexer.PROC_INDICATOR, sqllexer.CTE_INDICATOR, sqllexer.ALIAS_INDICATOR:
			toks = append(toks, token{kind: kWord, val: v, typ: t.Type})
		case sqllexer.OPERATOR:
			if d == MySQL && v == "?" {
				nparam++
				toks = append(toks, token{kind: kParam, val: "?", typ: t.Type, param: nparam})
				break
			}
			toks = append(toks, token{kind: kOther, val: v, typ: t.Type})
		default:
			toks = append(toks, token{kind: kOther, val: v, typ: t.Type})
		}
		adjacent = true
	}
	// The lexer stops at a NUL byte; text after it was never looked at.
	return toks, pos == len(sql)
}

func isStringPrefix(v string) bool {
	switch upperOf(v) {
	case "E", "B", "X", "N", "U":
		return true
	}
	return strings.HasPrefix(v, "_") && len(v) > 1
}

// endsValue reports whether t can end an operand, so a following signed
// number is an operator and a literal.
func endsValue(t token) bool {
	switch t.kind {
	case kIdent, kLiteral, kParam:
		return true
	case kOther:
		return t.val == ")" || t.val == "]"
	case kWord:
		return t.typ == sqllexer.BOOLEAN || t.typ == sqllexer.NULL
	}
	return false
}

// sameShape reports whether two lexings agree on everything but literals.
func sameShape(a, b []token) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].kind != b[i].kind || a[i].kind != kLiteral && a[i].val != b[i].val {
			return false
		}
	}
	return true
}

// splitQualified splits a possibly quoted, dotted name into its parts,
// unquoted; unquoted parts are lower-cased (MySQL: all parts).
func splitQualified(name string, d Dialect) []string {
	var parts []string
	var b strings.Builder
	quoted, wasQuoted := byte(0), false
	flush := func() {
		p := b.String()
		if !wasQuoted || d == MySQL {
			p = strings.ToLower(p)
		}
		parts = append(parts, p)
		b.Reset()
		wasQuoted = false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case quoted != 0 && c == quoted:
			if i+1 < len(name) && name[i+1] == quoted {
				b.WriteByte(c)
				i++
				continue
			}
			quoted = 0
		case quoted != 0:
			b.WriteByte(c)
		case c == '"' || c == '`':
			quoted, wasQuoted = c, true
		case c == '.':
			flush()
		default:
			b.WriteByte(c)
		}
	}
	flush()
	return parts
}

// literalValue returns the value a literal token stands for (quotes removed,
// escapes undone), for identifier hashing only.
func literalValue(d Dialect, t token) string {
	v := t.raw
	switch t.typ {
	case sqllexer.NUMBER:
		return strings.TrimPrefix(v, "+")
	case sqllexer.DOLLAR_QUOTED_STRING, sqllexer.DOLLAR_QUOTED_FUNCTION:
		if i := strings.IndexByte(v[1:], '$'); i >= 0 {
			tag := v[:i+2]
			v = strings.TrimSuffix(strings.TrimPrefix(v, tag), tag)
		}
		return v
	}
	if v == "" {
		return v
	}
	q := v[0]
	if q != '\'' && q != '"' {
		return v
	}
	v = v[1:]
	if len(v) > 0 && v[len(v)-1] == q {
		v = v[:len(v)-1]
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == q && i+1 < len(v) && v[i+1] == q {
			b.WriteByte(q)
			i++
			continue
		}
		if c == '\\' && d == MySQL && i+1 < len(v) {
			i++
			switch v[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			default:
				b.WriteByte(v[i])
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

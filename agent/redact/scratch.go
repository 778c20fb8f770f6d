package redact

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// scratch holds the buffers one Redact call works in, reused through a
// pool so that redacting a statement allocates little more than its
// results. Nothing in it may reach a Result: results get their own copies.
type scratch struct {
	toks, alt, out, res []token
	isTable, skip       []bool
	aliases             map[string]string
	seenTable, seenCol  map[string]bool
	tables, columns     []string
	a                   analysis
	stmt, norm, key     []byte
	pkey                []byte    // prelexScan's key (no literal text)
	spans               []litSpan // prelexScan's literals
}

// maxPooledTokens keeps the scratch of a huge statement out of the pool.
const maxPooledTokens = 4096

var scratchPool = sync.Pool{New: func() any {
	return &scratch{aliases: map[string]string{}, seenTable: map[string]bool{}, seenCol: map[string]bool{}}
}}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// put drops every reference to the statement (its text holds literals) and
// returns the scratch to the pool.
func (s *scratch) put() {
	if cap(s.toks) > maxPooledTokens || cap(s.alt) > maxPooledTokens || cap(s.out) > maxPooledTokens ||
		cap(s.res) > maxPooledTokens || cap(s.stmt) > 64<<10 || cap(s.key) > 64<<10 ||
		cap(s.pkey) > 64<<10 || cap(s.spans) > maxPooledTokens {
		return
	}
	// Slots past each length were cleared by an earlier put.
	clear(s.toks)
	clear(s.alt)
	clear(s.out)
	clear(s.res)
	clear(s.tables)
	clear(s.columns)
	clear(s.aliases)
	clear(s.seenTable)
	clear(s.seenCol)
	s.a = analysis{}
	scratchPool.Put(s)
}

// knownWords interns the upper-case words the redactor compares with, so
// upperOf finds them without allocating.
var knownWords = map[string]string{}

func init() {
	add := func(ws ...string) {
		for _, w := range ws {
			knownWords[w] = w
		}
	}
	for _, m := range []map[string]bool{commandWords, notAlias, notColumn, dataCommands} {
		for w := range m {
			add(w)
		}
	}
	add(strings.Fields(`FROM JOIN STRAIGHT_JOIN UPDATE INTO TABLE TRUNCATE COPY ONLY IF NOT EXISTS LOW_PRIORITY
		IGNORE QUICK DELAYED HIGH_PRIORITY AS IN VALUES WHERE AND OR IS NULL TRUE FALSE LIKE BETWEEN SET ON
		BY ASC DESC LIMIT DISTINCT CASE WHEN THEN ELSE END E B X N U`)...)
}

// upperOf is strings.ToUpper(s), without allocating when s is ASCII and
// already upper case or one of knownWords.
func upperOf(s string) string {
	var buf [32]byte
	if len(s) > len(buf) {
		return strings.ToUpper(s)
	}
	lower := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return strings.ToUpper(s)
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
			lower = true
		}
		buf[i] = c
	}
	if !lower {
		return s
	}
	if w, ok := knownWords[string(buf[:len(s)])]; ok {
		return w
	}
	return string(buf[:len(s)])
}

// upperIs reports whether strings.ToUpper(s) == w, for an upper-case ASCII w.
func upperIs(s, w string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.ToUpper(s) == w
		}
	}
	if len(s) != len(w) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

// inUpper reports whether m holds strings.ToUpper(s), without allocating
// for ASCII s.
func inUpper(m map[string]bool, s string) bool {
	var buf [32]byte
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return m[strings.ToUpper(s)]
		}
	}
	if len(s) > len(buf) {
		return false // longer than any word in the sets
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return m[string(buf[:len(s)])]
}

// appendUpper appends strings.ToUpper(s).
func appendUpper(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(b, strings.ToUpper(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// appendLower appends strings.ToLower(s).
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(b, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// simpleName returns splitQualified(name)[0] for a name that is one
// unquoted part (no dot or quote), without building the parts.
func simpleName(name string) (string, bool) {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '.' || c == '"' || c == '`' {
			return "", false
		}
	}
	return strings.ToLower(name), true
}

// hasQuote is strings.ContainsAny(s, "\"`"), cheaper for short s.
func hasQuote(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '`' {
			return true
		}
	}
	return false
}

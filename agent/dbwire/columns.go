package dbwire

import (
	"slices"
	"strings"

	"github.com/vigilhq/vigil/agent/redact"
)

// exprMark starts the name, as the trackers keep it, of a result column
// that is no table's column (an expression): the server may have named it
// after the expression's text, literals and all (MySQL names SELECT 'x'
// x), so such a name is kept only where the redacted statement shows it.
const exprMark = "\x00"

// resultColumns returns the names a result's columns had on the wire, each
// once, without "" and PostgreSQL's "?column?" (an expression with no
// name); nil when none is left. A table's column is kept as named; an
// expression's (exprMark) only when stmt, the redacted statement, holds its
// name, or when redaction is off (verbatim). cols is not changed.
func resultColumns(cols []string, stmt string, verbatim bool) []string {
	var out []string
	var seen map[string]bool // only for long lists: a scan is cheaper
	for _, s := range cols {
		if name, ok := strings.CutPrefix(s, exprMark); ok {
			if !verbatim && (stmt == redact.Unparsable || !containsFold(stmt, name)) {
				continue
			}
			s = name
		}
		if s == "" || s == "?column?" {
			continue
		}
		if len(cols) > 16 {
			if seen == nil {
				seen = make(map[string]bool, len(cols))
			}
			if seen[s] {
				continue
			}
			seen[s] = true
		} else if slices.Contains(out, s) {
			continue
		}
		if out == nil {
			out = make([]string, 0, len(cols))
		}
		out = append(out, s)
	}
	return out
}

// containsFold reports whether s holds sub, ignoring ASCII case.
func containsFold(s, sub string) bool {
	if sub == "" {
		return false
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

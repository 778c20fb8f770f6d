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

// tableMark starts a MySQL column kept as tableMark+org_table+tableMark+
// org_name: a column of a table the statement names goes by the table's
// name for it. MySQL gives a derived table's or a CTE's columns an
// org_table and org_name too, named after their expressions' text
// (SELECT * FROM (SELECT 'x') d returns org_name x), so a column of any
// other table is kept only as an expression's would be.
const tableMark = "\x01"

// resultColumns returns the names a result's columns had on the wire, each
// once, without "" and PostgreSQL's "?column?" (an expression with no
// name); nil when none is left. A column without a mark is kept as named;
// one marked as a column of a table among tables by its org_name; an
// expression's (exprMark), or another table's column, only when stmt, the
// redacted statement, holds its name as a whole, or when redaction is off
// (verbatim). cols is not changed.
func resultColumns(cols []string, stmt string, tables []string, verbatim bool) []string {
	var out []string
	var seen map[string]bool // only for long lists: a scan is cheaper
	shown := func(name string) bool {
		return verbatim || stmt != redact.Unparsable && containsFold(stmt, name)
	}
	for _, s := range cols {
		if name, ok := strings.CutPrefix(s, exprMark); ok {
			if !shown(name) {
				continue
			}
			s = name
		} else if rest, ok := strings.CutPrefix(s, tableMark); ok {
			table, name, _ := strings.Cut(rest, tableMark)
			if !slices.Contains(tables, strings.ToLower(table)) && !shown(name) {
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

// containsFold reports whether s holds sub as a whole, ignoring ASCII
// case: not as part of a longer name or number, so that a short literal
// ('cust') is not taken as shown by a name that starts with it.
func containsFold(s, sub string) bool {
	if sub == "" {
		return false
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if !strings.EqualFold(s[i:i+len(sub)], sub) {
			continue
		}
		if (i == 0 || !nameByte(s[i-1]) || !nameByte(sub[0])) &&
			(i+len(sub) == len(s) || !nameByte(s[i+len(sub)]) || !nameByte(sub[len(sub)-1])) {
			return true
		}
	}
	return false
}

// nameByte reports whether c may continue a name or a number.
func nameByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

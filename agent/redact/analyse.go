package redact

import (
	"slices"
	"strings"

	sqllexer "github.com/DataDog/go-sqllexer"
)

// analysis is what the token stream tells about tables, columns and
// comparisons. It is a cheap pass over tokens, not a SQL parser: it reads the
// common shapes (FROM a [AS] x, b JOIN c ON ..., col = literal, col IN (...)).
type analysis struct {
	tables      []string          // by tableName: the last part, lower case
	aliases     map[string]string // alias or table name -> table, by tableName
	columns     []string
	comparisons []comparison
}

type comparison struct {
	col    []string // qualified name parts
	values []int    // literal tokens compared (their values by literalValue)
	params []int    // placeholders
}

// words that end a table reference rather than name its alias.
var notAlias = map[string]bool{}

// words that are never column names.
var notColumn = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`TO CROSS NATURAL FULL FOR FETCH USING TABLESAMPLE PARTITION WITH VALUES
		SELECT DEFAULT FORCE IGNORE USE LOCK SET WHERE JOIN ON LEFT RIGHT INNER OUTER GROUP ORDER LIMIT
		OFFSET HAVING UNION EXCEPT INTERSECT RETURNING WINDOW STDOUT STDIN FROM AS STRAIGHT_JOIN`) {
		notAlias[w] = true
	}
	for _, w := range strings.Fields(`TO STDOUT STDIN CSV HEADER FORMAT BINARY TEXT DELIMITER NULLS FIRST LAST
		CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER SESSION_USER LOCALTIME LOCALTIMESTAMP
		INTERVAL DATE TIME TIMESTAMP ROW ROWS ONLY NEXT OVER PARTITION WITHIN FILTER EXCLUDED
		DUPLICATE CONFLICT NOTHING DO LOCKED NOWAIT SHARE MODE SKIP ZONE AT ARRAY ASC DESC`) {
		notColumn[w] = true
	}
}

var dataCommands = map[string]bool{
	"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true, "REPLACE": true,
	"COPY": true, "TABLE": true, "VALUES": true, "UPSERT": true,
}

// analyse reads tables, columns and (with wantComparisons) comparisons from
// toks. The analysis and its slices live in s: copy what is kept.
func (s *scratch) analyse(d Dialect, toks []token, cmd string, wantComparisons bool) *analysis {
	a := &s.a
	*a = analysis{aliases: s.aliases, tables: s.tables[:0], columns: s.columns[:0]}
	s.isTable = append(s.isTable[:0], make([]bool, len(toks))...)
	s.skip = append(s.skip[:0], make([]bool, len(toks))...)
	isTable := s.isTable
	skip := s.skip // aliases and names that are not columns
	seenTable := s.seenTable
	addTable := func(i int) string {
		name, last := tableName(toks[i].val, d)
		isTable[i] = true
		if !seenTable[name] {
			seenTable[name] = true
			a.tables = append(a.tables, name)
		}
		a.aliases[last] = name
		a.aliases[name] = name
		return name
	}
	if cmd == "HANDLER" && len(toks) > 1 && toks[1].kind == kIdent {
		// HANDLER t OPEN|READ|CLOSE: t is a table, or the alias an OPEN
		// gave it (which the caller resolves).
		addTable(1)
	}
	scan := len(toks)
	if cmd == "FETCH" || cmd == "MOVE" {
		scan = 0 // FROM names the cursor, not a table
	}
	for i := 0; i < scan; i++ {
		t := toks[i]
		if t.kind != kWord {
			continue
		}
		u := upperOf(t.val)
		switch u {
		case "FROM", "JOIN", "STRAIGHT_JOIN", "UPDATE", "INTO", "TABLE", "TRUNCATE":
		case "COPY":
			if i != 0 {
				continue
			}
		default:
			continue
		}
		list := u == "FROM" || u == "UPDATE"
		j := i + 1
		for {
			for j < len(toks) && toks[j].kind == kWord {
				switch upperOf(toks[j].val) {
				case "ONLY", "IF", "NOT", "EXISTS", "LOW_PRIORITY", "IGNORE", "QUICK", "DELAYED", "HIGH_PRIORITY", "TABLE":
					j++
					continue
				}
				break
			}
			if j >= len(toks) || toks[j].kind != kIdent || inUpper(notAlias, toks[j].val) {
				break
			}
			tbl := addTable(j)
			j++
			if j < len(toks) && upperIs(toks[j].val, "AS") && j+1 < len(toks) && toks[j+1].kind == kIdent {
				j++
			}
			if j < len(toks) && toks[j].kind == kIdent && !inUpper(notAlias, toks[j].val) {
				first, ok := simpleName(toks[j].val)
				if !ok {
					first = splitQualified(toks[j].val, d)[0]
				}
				a.aliases[first] = tbl
				skip[j] = true
				j++
			}
			if !list || j >= len(toks) || toks[j].val != "," {
				break
			}
			j++
		}
		i = j - 1
	}
	colFrom := 0
	if cmd == "DECLARE" {
		// Only the cursor's query names columns.
		colFrom = declaredQuery(toks)
	}
	if dataCommands[cmd] || cmd == "WITH" || colFrom > 0 {
		seenCol := s.seenCol
		for i, t := range toks {
			if i < colFrom || t.kind != kIdent || isTable[i] || skip[i] || inUpper(notColumn, t.val) {
				continue
			}
			if i > 0 && (upperIs(toks[i-1].val, "AS") || toks[i-1].val == "::") {
				continue
			}
			if i+1 < len(toks) && toks[i+1].kind == kIdent && i > 0 && (toks[i-1].val == ")") {
				continue // subquery alias
			}
			if i+2 < len(toks) && upperIs(toks[i+1].val, "AS") && toks[i+2].val == "(" {
				continue // common table expression
			}
			if strings.HasSuffix(t.val, ".") {
				continue // qualifier of a.*
			}
			var name string
			if n, ok := simpleName(t.val); ok {
				name = n
			} else {
				name = a.columnName(splitQualified(t.val, d))
			}
			if name != "" && !seenCol[name] {
				seenCol[name] = true
				a.columns = append(a.columns, name)
			}
		}
		slices.Sort(a.columns)
	}
	s.tables, s.columns = a.tables, a.columns
	if wantComparisons {
		a.comparisons = comparisons(d, toks)
	}
	return a
}

// columnName renders a column reference with its table resolved from aliases
// when it is qualified.
func (a *analysis) columnName(parts []string) string {
	col := parts[len(parts)-1]
	if len(parts) == 1 {
		return col
	}
	q := parts[len(parts)-2]
	if t, ok := a.aliases[q]; ok {
		q = t
	}
	return q + "." + col
}

// comparisons finds col = literal, literal = col, col IN (literals) and the
// same with placeholders.
func comparisons(d Dialect, toks []token) []comparison {
	var out []comparison
	isEq := func(t token) bool {
		return t.kind == kOther && (t.val == "=" || t.val == "==" || t.val == "<=>")
	}
	value := func(t token) (int, bool) {
		switch t.kind {
		case kLiteral:
			if t.typ == sqllexer.ERROR {
				return 0, false
			}
			return 0, true
		case kParam:
			return t.param, true
		}
		return 0, false
	}
	add := func(c *comparison, i int) {
		if p, _ := value(toks[i]); p > 0 {
			c.params = append(c.params, p)
		} else {
			c.values = append(c.values, i)
		}
	}
	for i, t := range toks {
		if t.kind != kIdent {
			continue
		}
		// col = value
		if i+2 < len(toks) && isEq(toks[i+1]) {
			if _, ok := value(toks[i+2]); ok {
				c := comparison{col: splitQualified(t.val, d)}
				add(&c, i+2)
				out = append(out, c)
				continue
			}
		}
		// value = col
		if i >= 2 && isEq(toks[i-1]) {
			if _, ok := value(toks[i-2]); ok {
				c := comparison{col: splitQualified(t.val, d)}
				add(&c, i-2)
				out = append(out, c)
				continue
			}
		}
		// col [NOT] IN (v, v, ...)
		j := i + 1
		if j < len(toks) && upperIs(toks[j].val, "NOT") {
			j++
		}
		if j+1 < len(toks) && upperIs(toks[j].val, "IN") && toks[j+1].val == "(" {
			c := comparison{col: splitQualified(t.val, d)}
			k := j + 2
			for ; k < len(toks); k += 2 {
				if _, ok := value(toks[k]); !ok {
					break
				}
				add(&c, k)
				if k+1 >= len(toks) || toks[k+1].val != "," {
					k++
					break
				}
			}
			if k < len(toks) && toks[k].val == ")" && (len(c.values) > 0 || len(c.params) > 0) {
				out = append(out, c)
			}
		}
	}
	return out
}

// matches reports whether the column reference col (in a statement with the
// given analysis) is this configured identifier column. A view over one
// base table (views) stands for that table.
func (ic idColumn) matches(col []string, a *analysis, views map[string][]string) bool {
	if col[len(col)-1] != ic.column {
		return false
	}
	if ic.table == "" {
		return true
	}
	is := func(table string) bool {
		if table == ic.table {
			return true
		}
		b := views[table]
		return len(b) == 1 && b[0] == ic.table
	}
	if len(col) > 1 {
		q := col[len(col)-2]
		if t, ok := a.aliases[q]; ok {
			q = t
		}
		return is(strings.ToLower(q))
	}
	// Unqualified: only when the statement reads exactly that one table.
	return len(a.tables) == 1 && is(a.tables[0])
}

// collapse shortens lists of placeholders: IN (?, ?, ?) becomes IN (?) and
// repeated VALUES tuples become one, so statements differing only in list
// length share a fingerprint. The result lives in s.
func (s *scratch) collapse(toks []token) []token {
	need := false
	for _, t := range toks {
		if upperIs(t.val, "IN") || upperIs(t.val, "VALUES") {
			need = true
			break
		}
	}
	if !need {
		return toks // nothing to shorten: spare the copies
	}
	out := s.out[:0]
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		out = append(out, t)
		if t.val != "(" {
			continue
		}
		// IN (?, ?, ...) with literals only
		if i == 0 || !upperIs(toks[i-1].val, "IN") {
			continue
		}
		k := i + 1
		n := 0
		for k < len(toks) && toks[k].kind == kLiteral {
			n++
			if k+1 < len(toks) && toks[k+1].val == "," {
				k += 2
				continue
			}
			k++
			break
		}
		if n > 1 && k < len(toks) && toks[k].val == ")" && toks[k-1].kind == kLiteral {
			out = append(out, token{kind: kLiteral, val: "?"})
			i = k - 1
		}
	}
	s.out = out
	// VALUES (...), (...) with identical tuples
	res := s.res[:0]
	for i := 0; i < len(out); i++ {
		res = append(res, out[i])
		if out[i].val != ")" {
			continue
		}
		start := tupleStart(res)
		if start < 0 {
			continue
		}
		tuple := res[start:]
		for {
			j := i + 1
			if j >= len(out) || out[j].val != "," || j+1+len(tuple) > len(out) {
				break
			}
			if !sameTokens(out[j+1:j+1+len(tuple)], tuple) {
				break
			}
			i = j + len(tuple)
		}
	}
	s.res = res
	return res
}

// tupleStart returns the index of the "(" that opens the tuple ending res,
// when that tuple directly follows VALUES.
func tupleStart(res []token) int {
	depth := 0
	for k := len(res) - 1; k >= 0; k-- {
		switch res[k].val {
		case ")":
			depth++
		case "(":
			depth--
			if depth == 0 {
				if k > 0 && upperIs(res[k-1].val, "VALUES") {
					return k
				}
				return -1
			}
		}
	}
	return -1
}

func sameTokens(a, b []token) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].val != b[i].val || a[i].kind != b[i].kind {
			return false
		}
	}
	return true
}

// render renders the statement text into s.stmt and the normalised text
// hashed into the fingerprint (keywords upper case, unquoted names lower
// case) into s.norm.
func (s *scratch) render(toks []token) {
	st, n := s.stmt[:0], s.norm[:0]
	for i, t := range toks {
		if i > 0 && space(toks[i-1], t) {
			st = append(st, ' ')
			n = append(n, ' ')
		}
		st = append(st, t.val...)
		switch t.kind {
		case kWord:
			n = appendUpper(n, t.val)
		case kIdent, kFunc:
			if hasQuote(t.val) {
				n = append(n, t.val...)
			} else {
				n = appendLower(n, t.val)
			}
		case kParam:
			n = append(n, '?')
		default:
			n = append(n, t.val...)
		}
	}
	s.stmt, s.norm = st, n
}

func space(prev, t token) bool {
	switch t.val {
	case ",", ")", ";", ".", "]", "::":
		return false
	case "(":
		return prev.kind != kFunc
	}
	switch prev.val {
	case "(", ".", "[", "::":
		return false
	}
	return true
}

package redact

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// A literal a person could hide a value in, for each dialect: its text
// with the marker v in it, however that dialect quotes and escapes.
type literalForm struct {
	name    string
	dialect Dialect // 0: both
	make    func(v string) string
}

// markerDigits stands in for values that must be digits (numbers, hex).
const markerDigits = "8675309215"

var literalForms = []literalForm{
	{"single-quoted", 0, func(v string) string { return "'" + v + "'" }},
	{"doubled quote inside", 0, func(v string) string { return "'o''" + v + "'" }},
	{"number", 0, func(string) string { return markerDigits }},
	{"negative number", 0, func(string) string { return "-" + markerDigits }},
	{"decimal", 0, func(string) string { return markerDigits + ".5" }},
	{"exponent", 0, func(string) string { return "1e" + markerDigits[:2] + "+" + markerDigits }},
	{"hex string", 0, func(string) string { return "X'" + markerDigits + "'" }},
	{"hex number", 0, func(string) string { return "0x" + markerDigits }},
	{"bit string", 0, func(string) string { return "B'" + strings.Repeat("01", 4) + "' + " + markerDigits }},
	{"national string", 0, func(v string) string { return "N'" + v + "'" }},
	{"E string", Postgres, func(v string) string { return "E'\\'" + v + "'" }},
	{"dollar quoted", Postgres, func(v string) string { return "$$" + v + "$$" }},
	{"tagged dollar quoted", Postgres, func(v string) string { return "$q$" + v + " $$ $q$" }},
	{"unicode escape string", Postgres, func(v string) string { return "U&'" + v + "'" }},
	{"cast string", Postgres, func(v string) string { return "'" + v + "'::text" }},
	{"typed string", Postgres, func(v string) string { return "date '" + v + "'" }},
	{"double-quoted string", MySQL, func(v string) string { return `"` + v + `"` }},
	{"backslash-escaped quote", MySQL, func(v string) string { return `'\'` + v + `'` }},
	{"backslash-escaped double quote", MySQL, func(v string) string { return `"\"` + v + `"` }},
	{"charset introducer", MySQL, func(v string) string { return "_utf8mb4'" + v + "'" }},
	{"collated string", MySQL, func(v string) string { return "'" + v + "' COLLATE utf8mb4_bin" }},
	{"double-quoted with a single quote", MySQL, func(v string) string { return `"it's ` + v + `"` }},
	{"double-quoted with a semicolon", MySQL, func(v string) string { return `"a;` + v + `"` }},
	{"single-quoted with a semicolon and comment marks", 0, func(v string) string { return "'a; -- /* # " + v + "'" }},
	{"double-quoted with a hash", MySQL, func(v string) string { return `"# ` + v + `"` }},
	{"unterminated string", 0, func(v string) string { return "'" + v }},
	{"unterminated double-quoted", MySQL, func(v string) string { return `"` + v }},
}

// A comment a person could hide a value in.
var commentForms = []literalForm{
	{"line comment", 0, func(v string) string { return "-- " + v + "\n" }},
	{"block comment", 0, func(v string) string { return "/* " + v + " */" }},
	{"nested block comment", Postgres, func(v string) string { return "/* a /* b */ " + v + " */" }},
	{"hash comment", MySQL, func(v string) string { return "# " + v + "\n" }},
	{"executable comment", MySQL, func(v string) string { return "/*!50000 " + v + " */" }},
	{"optimizer hint", MySQL, func(v string) string { return "/*+ " + v + " */" }},
	{"comment without space", 0, func(v string) string { return "--" + v + "\n" }},
	{"comment with quotes and semicolons", 0, func(v string) string { return "/* it's " + v + "; \" */" }},
	{"line comment with a quote", 0, func(v string) string { return "-- it's " + v + ";\n" }},
	{"hash comment with a quote", MySQL, func(v string) string { return "# it's \"" + v + "; \n" }},
	{"hash comment at the end", MySQL, func(v string) string { return "#" + v }},
	{"line comment at the end", 0, func(v string) string { return "-- " + v }},
	{"unterminated block comment", 0, func(v string) string { return "/* " + v }},
}

// Statement templates: L is where a literal goes, C where a comment can.
var statementTemplates = []string{
	"SELECT name, email FROM customers WHERE email = L C",
	"SELECT * FROM customers C WHERE id = L AND name LIKE L",
	"C SELECT count(*) FROM orders WHERE total > L",
	"UPDATE customers SET email = L C WHERE id = L",
	"INSERT INTO customers (id, email) VALUES (L, L) C",
	"DELETE FROM customers WHERE id IN (L, L, L) C",
	"SELECT * FROM customers WHERE id = (SELECT id FROM orders WHERE ref = L) C",
	"WITH x AS (SELECT L AS v) SELECT * FROM x C",
	"SELECT CASE WHEN id = L THEN L ELSE L END FROM customers C",
	"SELECT * FROM customers C ORDER BY id LIMIT L",
	"SELECT L C",
	"COPY (SELECT * FROM customers WHERE email = L) TO STDOUT C",
	"SELECT * FROM customers WHERE email = L C; SELECT L",
}

// leaked says whether v surfaced anywhere in what Redact reports.
func leaked(res Result, v string) bool {
	b, _ := json.Marshal(res)
	low := strings.ToLower(string(b))
	return strings.Contains(low, strings.ToLower(v)) || strings.Contains(low, markerDigits)
}

// TestNoLiteralSurvives plants a marker in every literal and comment form
// of each dialect, in every position of generated statements, and fails if
// the marker reaches any field Redact reports: redaction must fail closed.
func TestNoLiteralSurvives(t *testing.T) {
	r := newTest(t, "customers.id", "email")
	rng := rand.New(rand.NewSource(1))
	n, leaks := 0, map[string]string{}
	for _, tmpl := range statementTemplates {
		for _, d := range []Dialect{Postgres, MySQL, MySQLNoBackslashEscapes} {
			base := d
			if d == MySQLNoBackslashEscapes {
				base = MySQL
			}
			for _, form := range append(append([]literalForm(nil), literalForms...), commentForms...) {
				if form.dialect != 0 && form.dialect != base {
					continue
				}
				isComment := strings.Contains(form.name, "comment") || strings.Contains(form.name, "hint")
				// An unterminated literal runs to the end of the text: only
				// the last hole can hold one and leave the text a statement.
				lastOnly := strings.HasPrefix(form.name, "unterminated")
				holes := 0
				fill(tmpl, nil, func(hole byte) string {
					if hole == 'L' {
						holes++
					}
					return ""
				})
				for try := range 4 {
					v := fmt.Sprintf("zqx%dsecret%d", rng.Intn(1e6), try)
					seen := 0
					sql := fill(tmpl, rng, func(hole byte) string {
						if hole == 'L' {
							seen++
						}
						switch {
						case hole == 'L' && !isComment && (!lastOnly || seen == holes):
							return form.make(v)
						case hole == 'C' && isComment:
							return form.make(v)
						case hole == 'L':
							return "42"
						}
						return ""
					})
					if !strings.Contains(sql, v) && !strings.Contains(sql, markerDigits) {
						continue
					}
					n++
					var results []Result
					for _, stmt := range Split(base, sql) {
						results = append(results, r.Redact(d, stmt))
					}
					for _, res := range results {
						if leaked(res, v) {
							key := fmt.Sprintf("%v %s", d, form.name)
							if _, seen := leaks[key]; !seen {
								leaks[key] = fmt.Sprintf("%q -> %q tables %v columns %v", sql, res.Statement, res.Tables, res.Columns)
							}
						}
					}
				}
			}
		}
	}
	for k, ex := range leaks {
		t.Errorf("%s: %s", k, ex)
	}
	t.Logf("%d statements, %d leaking forms", n, len(leaks))
}

// fill replaces each L and C hole of tmpl with what fillHole gives it.
func fill(tmpl string, rng *rand.Rand, fillHole func(hole byte) string) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if (c == 'L' || c == 'C') && (i == 0 || tmpl[i-1] == ' ' || tmpl[i-1] == '(' || tmpl[i-1] == ',') &&
			(i+1 == len(tmpl) || strings.ContainsRune(" ,);", rune(tmpl[i+1]))) {
			b.WriteString(fillHole(c))
			continue
		}
		b.WriteByte(c)
	}
	_ = rng
	return b.String()
}

func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case MySQL:
		return "mysql"
	case MySQLNoBackslashEscapes:
		return "mysql-no-backslash"
	}
	return "?"
}

// escapeFor writes v into the literal or comment form so that the text
// stays what the form says: quotes doubled (and backslashes escaped where
// the dialect reads them), a comment's closing sequence broken up.
func escapeFor(form literalForm, d Dialect, v string) string {
	switch {
	case strings.Contains(form.name, "line comment"), strings.Contains(form.name, "hash comment"), form.name == "comment without space":
		return strings.NewReplacer("\n", " ", "\r", " ").Replace(v)
	case strings.Contains(form.name, "comment"), strings.Contains(form.name, "hint"):
		return strings.ReplaceAll(strings.ReplaceAll(v, "*/", "* /"), "/*", "/ *")
	case strings.Contains(form.name, "dollar"):
		return strings.ReplaceAll(v, "$", "")
	case strings.Contains(form.name, "double-quoted"), strings.Contains(form.name, "double quote"):
		if d == MySQL {
			v = strings.ReplaceAll(v, `\`, `\\`)
		}
		return strings.ReplaceAll(v, `"`, `""`)
	}
	if d == MySQL || form.name == "E string" {
		v = strings.ReplaceAll(v, `\`, `\\`)
	}
	return strings.ReplaceAll(v, "'", "''")
}

// FuzzNoLiteralSurvives puts fuzzed text, marked "zqx", in any literal or
// comment form of either dialect at any hole of a template: "zqx" must
// never reach Redact's output. make fuzz runs it for minutes.
func FuzzNoLiteralSurvives(f *testing.F) {
	f.Add(uint8(0), uint8(0), uint8(0), "plain")
	f.Add(uint8(3), uint8(len(literalForms)+2), uint8(1), "it's \"a\"; -- # /* x */")
	f.Add(uint8(5), uint8(len(literalForms)+3), uint8(0), "\\' OR 1=1 --")
	r := newTest(f, "customers.id", "email")
	forms := append(append([]literalForm(nil), literalForms...), commentForms...)
	f.Fuzz(func(t *testing.T, tmplN, formN, dialectN uint8, content string) {
		if !plausibleText(content, false) || strings.ContainsAny(content, "\x00") || len(content) > 200 {
			return
		}
		tmpl := statementTemplates[int(tmplN)%len(statementTemplates)]
		form := forms[int(formN)%len(forms)]
		d := []Dialect{Postgres, MySQL, MySQLNoBackslashEscapes}[int(dialectN)%3]
		base := d
		if d == MySQLNoBackslashEscapes {
			base = MySQL
		}
		if form.dialect != 0 && form.dialect != base || strings.Contains(strings.ToLower(content), "zqx") {
			return
		}
		if d == MySQLNoBackslashEscapes && strings.Contains(content, `\`) {
			return // escaping above assumes backslash escapes
		}
		v := "zqx" + escapeFor(form, base, content) + "xqz"
		isComment := strings.Contains(form.name, "comment") || strings.Contains(form.name, "hint")
		if strings.HasPrefix(form.name, "unterminated") {
			return // covered by TestNoLiteralSurvives, which places them last
		}
		sql := fill(tmpl, nil, func(hole byte) string {
			switch {
			case hole == 'L' && !isComment, hole == 'C' && isComment:
				return form.make(v)
			case hole == 'L':
				return "42"
			}
			return ""
		})
		for _, stmt := range Split(base, sql) {
			res := r.Redact(d, stmt)
			b, _ := json.Marshal(res)
			if strings.Contains(strings.ToLower(string(b)), "zqx") {
				t.Fatalf("%v %s: %q -> %s", d, form.name, stmt, b)
			}
		}
	})
}

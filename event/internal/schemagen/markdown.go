package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// eventsDoc writes docs/events.md's table of each object's fields, between
// its <!-- fields:NAME begin --> and <!-- fields:NAME end --> markers; NAME
// is event for the top-level fields, else the payload's name.
func eventsDoc(s *schema, doc []byte) ([]byte, error) {
	sections := map[string]string{}
	for _, o := range s.objects {
		var b strings.Builder
		b.WriteString("| field | type | meaning |\n|---|---|---|\n")
		for _, f := range o.fields {
			meaning := markup(f.doc)
			if f.obj != nil && len(f.obj.kinds) > 0 {
				var ks []string
				for _, k := range f.obj.kinds {
					ks = append(ks, "`"+k.value+"`")
				}
				meaning += " On " + and(ks) + "."
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", o.path(f.name), docType[f.typ], cell(meaning))
		}
		name := o.name
		if name == "" {
			name = "event"
		}
		sections["fields:"+name] = b.String()
	}
	return splice(s, doc, sections)
}

// docType words each type for docs/events.md.
var docType = map[typ]string{
	tString: "string", tUint: "number", tInt: "number", tFloat: "number", tBool: "bool", tTime: "RFC 3339 time",
	tStrings: "list of strings", tStringMap: "object of strings", tUintMap: "object of numbers",
	tStringsMap: "object of lists of strings", tObject: "object",
}

// rulesDoc writes docs/rules.md's table of the fields rules read, by
// object, between its <!-- rule-fields begin --> and <!-- rule-fields end -->
// markers.
func rulesDoc(s *schema, doc []byte) ([]byte, error) {
	var b strings.Builder
	b.WriteString("| object | fields |\n| --- | --- |\n")
	for _, o := range s.objects {
		var readable []*field
		for _, f := range o.fields {
			if f.typ != tObject && f.rule != "-" {
				readable = append(readable, f)
			}
		}
		slices.SortFunc(readable, func(a, b *field) int { return strings.Compare(a.name, b.name) })
		var list []string
		for _, f := range readable {
			list = append(list, fmt.Sprintf("`%s` %s", o.path(f.name), ruleType[f.typ]))
		}
		name := o.name
		if name == "" {
			name = "(top)"
		}
		fmt.Fprintf(&b, "| %s | %s |\n", name, strings.Join(list, ", "))
	}
	return splice(s, doc, map[string]string{"rule-fields": b.String()})
}

// ruleType words each type as rules see it, for docs/rules.md.
var ruleType = map[typ]string{
	tString: "string", tUint: "number", tInt: "number", tFloat: "number", tBool: "bool", tTime: "time",
	tStrings: "list of strings", tStringMap: "map of strings", tStringsMap: "map of string lists",
}

// splice replaces the text between each pair of marker lines
// <!-- NAME begin ... --> and <!-- NAME end --> in doc by sections[NAME],
// leaving the rest of doc as it is. Every section must have its markers, and
// every marker a section.
func splice(s *schema, doc []byte, sections map[string]string) ([]byte, error) {
	var out bytes.Buffer
	done := map[string]bool{}
	lines := strings.SplitAfter(string(doc), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		name, ok := marker(line, "begin")
		if !ok {
			if name, ok := marker(line, "end"); ok {
				return nil, fmt.Errorf("line %d: %s end marker without its begin", i+1, name)
			}
			out.WriteString(line)
			continue
		}
		text, known := sections[name]
		if !known {
			return nil, fmt.Errorf("line %d: marker %s names no table of %s", i+1, name, s.src)
		}
		if done[name] {
			return nil, fmt.Errorf("line %d: a second %s begin marker", i+1, name)
		}
		done[name] = true
		fmt.Fprintf(&out, "<!-- %s begin: generated from %s by make generate-schema -->\n", name, s.src)
		out.WriteString(text)
		for i++; i < len(lines); i++ {
			if n, ok := marker(lines[i], "end"); ok && n == name {
				break
			}
			if _, ok := marker(lines[i], "begin"); ok {
				return nil, fmt.Errorf("line %d: a begin marker inside %s", i+1, name)
			}
		}
		if i == len(lines) {
			return nil, fmt.Errorf("%s begin marker without its end marker <!-- %s end -->", name, name)
		}
		out.WriteString(lines[i])
	}
	var missing []string
	for name := range sections {
		if !done[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("no markers for %s: add a line <!-- NAME begin --> and one <!-- NAME end --> where each table goes",
			strings.Join(missing, ", "))
	}
	return out.Bytes(), nil
}

// marker reports the NAME of a line "<!-- NAME begin ... -->" (which) or
// "<!-- NAME end -->".
func marker(line, which string) (name string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "<!-- ")
	if !ok || !strings.HasSuffix(rest, "-->") {
		return "", false
	}
	f := strings.Fields(strings.TrimSuffix(rest, "-->"))
	if len(f) < 2 || strings.TrimSuffix(f[1], ":") != which || which == "end" && len(f) != 2 {
		return "", false
	}
	return f[0], true
}

// markup turns a doc tag's 'quoted words' into markdown code: a quote
// opens at the start or after a space or '(' (so "kernel's" does not), and
// closes before the end or a character that is not a letter or digit.
func markup(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' && (i == 0 || s[i-1] == ' ' || s[i-1] == '(') {
			if j := closingQuote(s, i+1); j > i+1 {
				b.WriteString("`" + s[i+1:j] + "`")
				i = j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func closingQuote(s string, from int) int {
	for j := from; j < len(s); j++ {
		if s[j] == '\'' && (j+1 == len(s) || !isWordByte(s[j+1])) {
			return j
		}
	}
	return -1
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// and joins words as a list in prose: a, b and c.
func and(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// cell escapes text for a markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

package dbwire

import "slices"

// resultColumns returns the names a result's columns had on the wire, each
// once, without "" and PostgreSQL's "?column?" (an expression with no
// name); nil when none is left. cols is not changed.
func resultColumns(cols []string) []string {
	var out []string
	var seen map[string]bool // only for long lists: a scan is cheaper
	for _, s := range cols {
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

package dbwire

import "slices"

// mergeColumns joins the columns a statement names (a) and those its result
// returned (b), each once and without "" or PostgreSQL's "?column?"; a comes
// back as is when b is empty.
func mergeColumns(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	out := make([]string, 0, len(a)+len(b))
	var seen map[string]bool // only for long lists: a scan is cheaper
	add := func(s string) {
		if s == "" || s == "?column?" {
			return
		}
		if len(a)+len(b) > 16 {
			if seen == nil {
				seen = make(map[string]bool, len(a)+len(b))
			}
			if seen[s] {
				return
			}
			seen[s] = true
		} else if slices.Contains(out, s) {
			return
		}
		out = append(out, s)
	}
	for _, s := range a {
		add(s)
	}
	for _, s := range b {
		add(s)
	}
	return out
}

package rules

import (
	"fmt"

	"github.com/agext/levenshtein"
)

// suggest returns ` Did you mean "x"?` for the closest candidate, or "".
func suggest(name string, candidates []string) string {
	best, bestD := "", 4
	for _, c := range candidates {
		d := levenshtein.Distance(name, c, nil)
		if d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	// Very short names are too easy to match by accident.
	if best == "" || bestD >= 3 && len(name) < 6 || bestD > len(name)/2+1 {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

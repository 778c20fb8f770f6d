package liveness

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigilhq/vigil/event"
)

// missingIdentifiers lists, joined, the identifiers the agent's host rules
// or the collector's rules read that the agent does not hash: rules
// counting them (distinct customers) see nothing from it.
func (t *Tracker) missingIdentifiers(hb *event.Heartbeat) string {
	missing := slices.Clone(hb.IdentifiersMissing)
	if t.opts.Identifiers != nil {
		for _, n := range t.opts.Identifiers() {
			if !slices.Contains(hb.Identifiers, n) {
				missing = append(missing, n)
			}
		}
	}
	slices.Sort(missing)
	return strings.Join(slices.Compact(missing), ", ")
}

func identifiersSummary(who, missing string, hb *event.Heartbeat) string {
	hashed := strings.Join(hb.Identifiers, ", ")
	if hashed == "" {
		hashed = "none"
	}
	return fmt.Sprintf("%s does not hash identifiers the rules count: %s (it hashes: %s); rules counting them, such as distinct customers, see nothing from it: add the columns to db.identifiers in its agent.hcl",
		who, missing, hashed)
}

package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// IdentifierUse is one place a rule set reads db.identifiers under a name
// known when it compiles (a literal or a variable).
type IdentifierUse struct {
	Name  string
	Range hcl.Range
}

// noteIdentifier records that the expression reads db.identifiers[name].
func (c *compiler) noteIdentifier(name string, rng hcl.Range) {
	c.idents = append(c.idents, IdentifierUse{Name: name, Range: rng})
}

// identifierUses sorts and de-duplicates what noteIdentifier recorded.
func identifierUses(uses []IdentifierUse) []IdentifierUse {
	sort.Slice(uses, func(i, j int) bool {
		a, b := uses[i], uses[j]
		if a.Range.Filename != b.Range.Filename {
			return a.Range.Filename < b.Range.Filename
		}
		if a.Range.Start.Byte != b.Range.Start.Byte {
			return a.Range.Start.Byte < b.Range.Start.Byte
		}
		return a.Name < b.Name
	})
	return slices.CompactFunc(uses, func(a, b IdentifierUse) bool { return a == b })
}

// IdentifierUses lists where the set's rules and conditions read
// db.identifiers, in file order.
func (s *Set) IdentifierUses() []IdentifierUse {
	if s == nil {
		return nil
	}
	return slices.Clone(s.idents)
}

// Identifiers lists the identifier names the set reads, sorted.
func (s *Set) Identifiers() []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, u := range s.idents {
		out = append(out, u.Name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// MissingIdentifiers lists the identifier names the set reads that are not
// among hashed, sorted: rules reading them see an empty list on every event.
func (s *Set) MissingIdentifiers(hashed []string) []string {
	var out []string
	for _, n := range s.Identifiers() {
		if !slices.Contains(hashed, n) {
			out = append(out, n)
		}
	}
	return out
}

// CheckIdentifiers returns an error for each place the set reads an
// identifier that is not among hashed, the names the agents report in
// db.identifiers: such a rule would count nothing, silently.
func (s *Set) CheckIdentifiers(hashed []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	have := "none"
	if len(hashed) > 0 {
		q := make([]string, len(hashed))
		for i, h := range hashed {
			q[i] = fmt.Sprintf("%q", h)
		}
		have = strings.Join(q, ", ")
	}
	for _, u := range s.idents {
		if slices.Contains(hashed, u.Name) {
			continue
		}
		diags = append(diags, errDiag(u.Range, "Identifier not hashed by the agents",
			fmt.Sprintf("db.identifiers[%q] is empty on every event: the agents hash %s (db.identifiers in agent.hcl).%s Add the columns under %q in agent.hcl's db.identifiers, or name one of the hashed identifiers here.",
				u.Name, have, suggest(u.Name, hashed), u.Name)))
	}
	withContext(diags, s.files)
	return diags
}

package rules

import (
	"fmt"
	"slices"
	"sort"
)

// Scopes. Host rules run in the agent over one host's events; global rules
// run in the collector over every site's events and the host alerts.
const (
	ScopeHost   = "host"
	ScopeGlobal = "global"
)

// Set is a compiled, immutable rule set. Load it with LoadDir, LoadFiles or
// Load; a set is only returned when its files have no errors.
type Set struct {
	rules  []*rule
	byName map[string]*rule
	hash   string
	tests  []*testCase
	// Kept so tests that override variables can recompile.
	files   []parsedFile
	varDefs map[string]*variable
	// idents are where the rules read db.identifiers by a known name.
	idents []IdentifierUse
}

// Hash is a stable hash of the rule sources (file base names and contents),
// for reporting which rule set an agent runs; "" for a nil set.
func (s *Set) Hash() string {
	if s == nil {
		return ""
	}
	return s.hash
}

// Names lists every rule's name, sorted (none for a nil set).
func (s *Set) Names() []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s.rules))
	for _, r := range s.rules {
		out = append(out, r.name)
	}
	sort.Strings(out)
	return out
}

// RuleInfo describes one rule of a set.
type RuleInfo struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"` // rule, threshold or sequence
	Scope    string   `json:"scope"`
	Severity string   `json:"severity"`
	Tags     []string `json:"tags,omitempty"`
	Pos      string   `json:"pos"` // file:line
}

// Rules describes the set's rules in name order.
func (s *Set) Rules() []RuleInfo {
	var out []RuleInfo
	for _, n := range s.Names() {
		r := s.byName[n]
		out = append(out, RuleInfo{Name: r.name, Type: r.typ.String(), Scope: r.scope, Severity: r.severity,
			Tags: slices.Clone(r.tags), Pos: fmt.Sprintf("%s:%d", r.rng.Filename, r.rng.Start.Line)})
	}
	return out
}

// Sources returns the files the set was compiled from, so a caller can keep
// a copy of a set that compiled (none for a nil set).
func (s *Set) Sources() []Source {
	if s == nil {
		return nil
	}
	out := make([]Source, len(s.files))
	for i, f := range s.files {
		out[i] = Source{Name: f.name, Data: slices.Clone(f.data)}
	}
	return out
}

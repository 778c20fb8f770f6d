package ocsfschema

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"
)

//go:embed schema-1.3.0.json
var schema130 []byte

// Schema is a compiled OCSF schema.
type Schema struct {
	Version string            `json:"version"`
	Source  string            `json:"source"`
	Types   map[string]string `json:"types"`
	Classes map[string]*Class `json:"classes"`
	Objects map[string]*Class `json:"objects"`
}

// Class is an event class or an object: its attributes by name.
type Class struct {
	Name       string           `json:"name"`
	Attributes map[string]*Attr `json:"attributes"`
}

// Attr is one attribute of a class or object.
type Attr struct {
	Type        string   `json:"type"`
	Object      string   `json:"object,omitempty"`
	Array       bool     `json:"array,omitempty"`
	Requirement string   `json:"requirement,omitempty"`
	Enum        []string `json:"enum,omitempty"`
	// Profile names the profile the attribute comes with: it is required
	// only when an event applies that profile (metadata.profiles).
	Profile string `json:"profile,omitempty"`
}

// V130 is OCSF 1.3.0.
var V130 = sync.OnceValues(func() (*Schema, error) { return parse(schema130) })

func parse(b []byte) (*Schema, error) {
	var s Schema
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("reading the compiled OCSF schema: %w", err)
	}
	return &s, nil
}

// base is the primitive a type comes down to: integer_t, long_t, float_t,
// string_t, boolean_t or json_t.
func (s *Schema) base(t string) string {
	for range 8 {
		next, ok := s.Types[t]
		if !ok || next == t {
			return t
		}
		t = next
	}
	return t
}

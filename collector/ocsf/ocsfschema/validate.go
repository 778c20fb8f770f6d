package ocsfschema

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
)

// A Problem is one way an event does not follow the schema, at a path
// such as "actor.process.pid".
type Problem struct {
	Path string
	What string
}

func (p Problem) String() string { return p.Path + ": " + p.What }

// Validate checks one event, given as anything that marshals to a JSON
// object, against its class: every attribute known, of its type, enum
// values among the enum's, required attributes present, attributes of a
// profile only with the profile listed in metadata.profiles, and the
// class, category and type ids consistent. Attributes under "unmapped"
// are free.
func (s *Schema) Validate(ev any) []Problem {
	b, err := json.Marshal(ev)
	if err != nil {
		return []Problem{{"", "not JSON: " + err.Error()}}
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		return []Problem{{"", "not a JSON object: " + err.Error()}}
	}
	v := &validator{s: s, profiles: map[string]bool{}}
	if md, ok := obj["metadata"].(map[string]any); ok {
		if ps, ok := md["profiles"].([]any); ok {
			for _, p := range ps {
				if name, ok := p.(string); ok {
					v.profiles[name] = true
				}
			}
		}
	}
	classUID, ok := integer(obj["class_uid"])
	if !ok {
		return []Problem{{"class_uid", "missing or not an integer"}}
	}
	c, ok := s.Classes[strconv.FormatInt(classUID, 10)]
	if !ok {
		return []Problem{{"class_uid", fmt.Sprintf("%d is not a class of OCSF %s", classUID, s.Version)}}
	}
	v.object("", obj, c)
	if cat, ok := integer(obj["category_uid"]); ok && cat != classUID/1000 {
		v.add("category_uid", fmt.Sprintf("%d, but class %d is in category %d", cat, classUID, classUID/1000))
	}
	act, aok := integer(obj["activity_id"])
	if typ, ok := integer(obj["type_uid"]); ok && aok && typ != classUID*100+act {
		v.add("type_uid", fmt.Sprintf("%d, want class_uid*100+activity_id = %d", typ, classUID*100+act))
	}
	sort.Slice(v.problems, func(i, j int) bool { return v.problems[i].Path < v.problems[j].Path })
	return v.problems
}

type validator struct {
	s        *Schema
	profiles map[string]bool // the profiles the event applies
	problems []Problem
}

func (v *validator) add(path, what string) { v.problems = append(v.problems, Problem{path, what}) }

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// object checks obj's attributes against c.
func (v *validator) object(path string, obj map[string]any, c *Class) {
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		a, ok := c.Attributes[name]
		if !ok {
			v.add(join(path, name), fmt.Sprintf("not an attribute of %s", c.Name))
			continue
		}
		if a.Profile != "" && !v.profiles[a.Profile] {
			v.add(join(path, name), fmt.Sprintf("comes with the %s profile, which metadata.profiles does not list", a.Profile))
		}
		v.value(join(path, name), obj[name], a)
	}
	for _, name := range slices.Sorted(maps.Keys(c.Attributes)) {
		if a := c.Attributes[name]; a.Requirement == "required" && (a.Profile == "" || v.profiles[a.Profile]) {
			if _, ok := obj[name]; !ok {
				v.add(join(path, name), fmt.Sprintf("required by %s, missing", c.Name))
			}
		}
	}
}

func (v *validator) value(path string, val any, a *Attr) {
	if a.Array {
		arr, ok := val.([]any)
		if !ok {
			v.add(path, fmt.Sprintf("want an array, have %s", kind(val)))
			return
		}
		one := *a
		one.Array = false
		for i, x := range arr {
			v.value(fmt.Sprintf("%s[%d]", path, i), x, &one)
		}
		return
	}
	if a.Type == "object_t" {
		m, ok := val.(map[string]any)
		if !ok {
			v.add(path, fmt.Sprintf("want a %s object, have %s", a.Object, kind(val)))
			return
		}
		if a.Object == "object" {
			return // free-form, such as unmapped
		}
		o, ok := v.s.Objects[a.Object]
		if !ok {
			v.add(path, fmt.Sprintf("object type %s unknown to the schema", a.Object))
			return
		}
		v.object(path, m, o)
		return
	}
	switch base := v.s.base(a.Type); base {
	case "integer_t", "long_t":
		n, ok := integer(val)
		if !ok {
			v.add(path, fmt.Sprintf("want an integer (%s), have %s", a.Type, kind(val)))
			return
		}
		if a.Type == "port_t" && (n < 0 || n > 65535) {
			v.add(path, fmt.Sprintf("port %d out of range", n))
		}
		if len(a.Enum) > 0 && !slices.Contains(a.Enum, strconv.FormatInt(n, 10)) {
			v.add(path, fmt.Sprintf("%d is not one of %v", n, a.Enum))
		}
	case "float_t":
		if _, ok := val.(float64); !ok {
			v.add(path, fmt.Sprintf("want a number, have %s", kind(val)))
		}
	case "string_t":
		s, ok := val.(string)
		if !ok {
			v.add(path, fmt.Sprintf("want a string (%s), have %s", a.Type, kind(val)))
			return
		}
		if len(a.Enum) > 0 && !slices.Contains(a.Enum, s) {
			v.add(path, fmt.Sprintf("%q is not one of %v", s, a.Enum))
		}
	case "boolean_t":
		if _, ok := val.(bool); !ok {
			v.add(path, fmt.Sprintf("want true or false, have %s", kind(val)))
		}
	case "json_t":
	default:
		v.add(path, fmt.Sprintf("type %s unknown to the schema", a.Type))
	}
}

// integer is val as an integer, if it is one (JSON numbers decode as
// float64).
func integer(val any) (int64, bool) {
	f, ok := val.(float64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

func kind(val any) string {
	switch x := val.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", x)
	case float64:
		return fmt.Sprintf("number %v", x)
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", val)
}

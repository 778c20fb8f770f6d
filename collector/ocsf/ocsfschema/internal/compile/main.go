// compile flattens the OCSF schema's source (github.com/ocsf/ocsf-schema,
// a git checkout at a release) into the compact JSON that package
// ocsfschema validates against: every event class and object with its
// attributes resolved through extends, $include, profiles and the
// dictionary, each with its type, requirement and enum values. It reads
// the repository through git, so any revision can be compiled without a
// work tree.
//
//	go run ./collector/ocsf/ocsfschema/internal/compile -repo DIR -rev c8bde8c4 -out collector/ocsf/ocsfschema/schema-1.3.0.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The compact schema, as package ocsfschema reads it.
type schema struct {
	Version string            `json:"version"`
	Source  string            `json:"source"`
	Types   map[string]string `json:"types"`
	Classes map[string]*class `json:"classes"`
	Objects map[string]*class `json:"objects"`
}

type class struct {
	Name       string           `json:"name"`
	Attributes map[string]*attr `json:"attributes"`
}

type attr struct {
	Type        string   `json:"type"`
	Object      string   `json:"object,omitempty"`
	Array       bool     `json:"array,omitempty"`
	Requirement string   `json:"requirement,omitempty"`
	Enum        []string `json:"enum,omitempty"`
	// Profile names the profile the attribute comes with: it is required
	// only when an event applies that profile (metadata.profiles).
	Profile string `json:"profile,omitempty"`
}

// raw is an attribute as the source writes it, merged along the way.
type raw map[string]any

type source struct {
	repo, rev string
	cache     map[string]map[string]any
}

func (s *source) read(p string) (map[string]any, error) {
	if d, ok := s.cache[p]; ok {
		return d, nil
	}
	out, err := exec.Command("git", "-C", s.repo, "show", s.rev+":"+p).Output()
	if err != nil {
		return nil, fmt.Errorf("reading %s at %s: %w", p, s.rev, err)
	}
	var d map[string]any
	if err := json.Unmarshal(out, &d); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", p, err)
	}
	s.cache[p] = d
	return d, nil
}

func (s *source) list(dir string) ([]string, error) {
	out, err := exec.Command("git", "-C", s.repo, "ls-tree", "-r", "--name-only", s.rev, dir).Output()
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	var files []string
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasSuffix(f, ".json") {
			files = append(files, f)
		}
	}
	return files, nil
}

// attributes returns a definition's attributes with its $include files
// merged in (the definition's own keys win).
func (s *source) attributes(def map[string]any) (map[string]raw, error) {
	out := map[string]raw{}
	attrs, _ := def["attributes"].(map[string]any)
	if inc, ok := attrs["$include"].([]any); ok {
		for _, p := range inc {
			d, err := s.read(p.(string))
			if err != nil {
				return nil, err
			}
			got, err := s.attributes(d)
			if err != nil {
				return nil, err
			}
			profile, _ := d["name"].(string)
			for k, v := range got {
				if strings.HasPrefix(p.(string), "profiles/") && v["profile"] == nil {
					v = merge(v, map[string]any{"profile": profile})
				}
				out[k] = merge(out[k], v)
			}
		}
	}
	for k, v := range attrs {
		if k == "$include" {
			continue
		}
		m, _ := v.(map[string]any)
		out[k] = merge(out[k], m)
	}
	return out, nil
}

// merge lays b over a; enums are joined, as a class adds its own values
// to the dictionary's.
func merge(a raw, b map[string]any) raw {
	out := raw{}
	maps.Copy(out, a)
	for k, v := range b {
		if k == "enum" {
			e := map[string]any{}
			if old, ok := out["enum"].(map[string]any); ok {
				maps.Copy(e, old)
			}
			if nv, ok := v.(map[string]any); ok {
				maps.Copy(e, nv)
			}
			out[k] = e
			continue
		}
		out[k] = v
	}
	return out
}

// chain resolves a definition through its extends: the base's attributes
// first, each extension's laid over them.
func (s *source) chain(def map[string]any, byName map[string]string) (map[string]raw, error) {
	out := map[string]raw{}
	if ext, ok := def["extends"].(string); ok && ext != "" {
		p, ok := byName[ext]
		if !ok {
			return nil, fmt.Errorf("%v extends unknown %q", def["name"], ext)
		}
		base, err := s.read(p)
		if err != nil {
			return nil, err
		}
		if out, err = s.chain(base, byName); err != nil {
			return nil, err
		}
	}
	own, err := s.attributes(def)
	if err != nil {
		return nil, err
	}
	for k, v := range own {
		out[k] = merge(out[k], v)
	}
	return out, nil
}

// resolve gives each attribute its dictionary definition under what the
// class or object says of it.
func resolve(attrs map[string]raw, dict map[string]any, types map[string]string) (map[string]*attr, error) {
	out := map[string]*attr{}
	for name, a := range attrs {
		d, _ := dict[name].(map[string]any)
		full := merge(raw(d), a)
		t, _ := full["type"].(string)
		if t == "" {
			return nil, fmt.Errorf("attribute %s has no type", name)
		}
		r := &attr{Type: t}
		if _, prim := types[t]; !prim {
			r.Type, r.Object = "object_t", t
		}
		r.Array, _ = full["is_array"].(bool)
		r.Requirement, _ = full["requirement"].(string)
		r.Profile, _ = full["profile"].(string)
		if e, ok := full["enum"].(map[string]any); ok {
			r.Enum = slices.Sorted(maps.Keys(e))
			sort.Slice(r.Enum, func(i, j int) bool {
				a, ea := strconv.Atoi(r.Enum[i])
				b, eb := strconv.Atoi(r.Enum[j])
				if ea == nil && eb == nil {
					return a < b
				}
				return r.Enum[i] < r.Enum[j]
			})
		}
		out[name] = r
	}
	return out, nil
}

func run(repo, rev, outPath string) error {
	s := &source{repo: repo, rev: rev, cache: map[string]map[string]any{}}
	ver, err := s.read("version.json")
	if err != nil {
		return err
	}
	dict, err := s.read("dictionary.json")
	if err != nil {
		return err
	}
	dictAttrs, _ := dict["attributes"].(map[string]any)
	typeDefs, _ := dict["types"].(map[string]any)["attributes"].(map[string]any)
	types := map[string]string{}
	for name, v := range typeDefs {
		base, _ := v.(map[string]any)["type"].(string)
		if base == "" {
			base = name
		}
		types[name] = base
	}
	cats, err := s.read("categories.json")
	if err != nil {
		return err
	}
	catUID := map[string]int{}
	for name, v := range cats["attributes"].(map[string]any) {
		catUID[name] = int(v.(map[string]any)["uid"].(float64))
	}
	out := &schema{Version: ver["version"].(string), Source: "github.com/ocsf/ocsf-schema@" + rev, Types: types,
		Classes: map[string]*class{}, Objects: map[string]*class{}}

	objFiles, err := s.list("objects")
	if err != nil {
		return err
	}
	objByName := map[string]string{}
	for _, f := range objFiles {
		d, err := s.read(f)
		if err != nil {
			return err
		}
		objByName[d["name"].(string)] = f
	}
	for name, f := range objByName {
		d, _ := s.read(f)
		attrs, err := s.chain(d, objByName)
		if err != nil {
			return err
		}
		res, err := resolve(attrs, dictAttrs, types)
		if err != nil {
			return fmt.Errorf("object %s: %w", name, err)
		}
		out.Objects[name] = &class{Name: name, Attributes: res}
	}

	evFiles, err := s.list("events")
	if err != nil {
		return err
	}
	evByName := map[string]string{}
	for _, f := range evFiles {
		d, err := s.read(f)
		if err != nil {
			return err
		}
		evByName[d["name"].(string)] = f
	}
	for name, f := range evByName {
		d, _ := s.read(f)
		uid, ok := d["uid"].(float64)
		if !ok {
			continue // a category's base, not a class
		}
		cat := category(s, d, evByName)
		attrs, err := s.chain(d, evByName)
		if err != nil {
			return err
		}
		res, err := resolve(attrs, dictAttrs, types)
		if err != nil {
			return fmt.Errorf("class %s: %w", name, err)
		}
		classUID := catUID[cat]*1000 + int(uid)
		// The classification attributes take their values from the class.
		res["class_uid"].Enum = []string{strconv.Itoa(classUID)}
		res["category_uid"].Enum = []string{strconv.Itoa(catUID[cat])}
		var types []string
		for _, a := range res["activity_id"].Enum {
			n, _ := strconv.Atoi(a)
			types = append(types, strconv.Itoa(classUID*100+n))
		}
		res["type_uid"].Enum = types
		out.Classes[strconv.Itoa(classUID)] = &class{Name: name, Attributes: res}
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(outPath, append(b, '\n'), 0o644)
}

// category is the category a class belongs to, its own or its base's.
func category(s *source, d map[string]any, byName map[string]string) string {
	for {
		if c, ok := d["category"].(string); ok && c != "" {
			return c
		}
		ext, _ := d["extends"].(string)
		p, ok := byName[ext]
		if !ok {
			return ""
		}
		d, _ = s.read(p)
	}
}

func main() {
	repo := flag.String("repo", "", "an ocsf-schema git repository")
	rev := flag.String("rev", "", "the revision to compile (a release commit)")
	outPath := flag.String("out", "", "the compact schema file to write")
	flag.Parse()
	if *repo == "" || *rev == "" || *outPath == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*repo, *rev, path.Clean(*outPath)); err != nil {
		fmt.Fprintln(os.Stderr, "compile:", err)
		os.Exit(1)
	}
}

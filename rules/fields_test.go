package rules

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testenv"
)

// TestFieldsCoverSchema fails when the event schema has a field rules
// cannot read: fields_gen.go is stale (run make generate-schema), or a
// field tagged rule:"derived" has no accessor in derivedFields.
func TestFieldsCoverSchema(t *testing.T) {
	var roots []string
	check := func(prefix string, typ reflect.Type) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
				roots = append(roots, name)
				continue // payload objects are checked below
			}
			path := prefix + name
			_, ok := fields[path]
			switch {
			case f.Tag.Get("rule") == "-" && ok:
				t.Errorf("event field %s is tagged rule:\"-\" but rules read it", path)
			case f.Tag.Get("rule") != "-" && !ok:
				t.Errorf("event field %s is not readable by rules: run make generate-schema, or tag it rule:\"-\" in event/event.go", path)
			}
		}
	}
	ev := reflect.TypeFor[event.Event]()
	check("", ev)
	for i := 0; i < ev.NumField(); i++ {
		if f := ev.Field(i); f.Type.Kind() == reflect.Pointer {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			check(name+".", f.Type.Elem())
		}
	}
	if !slices.Equal(roots, payloadRoots) {
		t.Errorf("payloadRoots is %v, the event's payloads %v: run make generate-schema", payloadRoots, roots)
	}
}

func TestDocsListEveryField(t *testing.T) {
	doc, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		testenv.Skip(t, "docs/rules.md not found: "+err.Error())
	}
	for _, p := range fieldPaths() {
		if !strings.Contains(string(doc), "`"+p+"`") {
			t.Errorf("docs/rules.md does not list field %s", p)
		}
	}
	for _, f := range functionNames() {
		if !strings.Contains(string(doc), "`"+f+"(") {
			t.Errorf("docs/rules.md does not list function %s", f)
		}
	}
}

// person is the attributed client end's person for a statement read at the
// server, wherever rules run over it (vigil rules test included), and the
// process's otherwise.
func TestPersonReadsTheAttribution(t *testing.T) {
	ev := &event.Event{Kind: event.KindDBQuery, Process: &event.Process{User: "postgres", LoginUID: event.NoLoginUID},
		DB: &event.DB{Side: "server"}}
	person := fields["person"]
	if got := person.s(&env{ev: ev}); got != "postgres" {
		t.Fatalf("person %q, want postgres", got)
	}
	ev.Attribution = &event.Attribution{Status: event.AttributionAttributed, User: "nadia", LoginUser: "nadia", LoginUID: 1201}
	if got := person.s(&env{ev: ev}); got != "nadia" {
		t.Fatalf("person %q, want nadia", got)
	}
	if got := fields["attribution.status"].s(&env{ev: ev}); got != "attributed" {
		t.Fatalf("attribution.status %q", got)
	}
}

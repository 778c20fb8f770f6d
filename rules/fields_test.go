package rules

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/event"
)

// TestFieldsCoverSchema fails when the event schema gains a field that
// rules cannot read: add it to fields in fields.go and to docs/rules.md.
func TestFieldsCoverSchema(t *testing.T) {
	skip := map[string]bool{"heartbeat.kernel_drops": true} // map of counters: not useful in rules
	check := func(prefix string, typ reflect.Type) {
		for i := 0; i < typ.NumField(); i++ {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			ft := typ.Field(i).Type
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				continue // payload objects are checked below
			}
			path := prefix + name
			if _, ok := fields[path]; !ok && !skip[path] {
				t.Errorf("event field %s is not readable by rules: add one line for it to the fields table in rules/fields.go and list it in docs/rules.md", path)
			}
		}
	}
	check("", reflect.TypeOf(event.Event{}))
	for name, v := range map[string]any{
		"process": event.Process{}, "exit": event.Exit{}, "file": event.File{}, "net": event.Net{},
		"db": event.DB{}, "loss": event.Loss{}, "heartbeat": event.Heartbeat{}, "alert": event.Alert{},
	} {
		check(name+".", reflect.TypeOf(v))
	}
}

func TestDocsListEveryField(t *testing.T) {
	doc, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		t.Skip("docs/rules.md not found:", err)
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

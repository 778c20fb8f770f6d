package ocsfschema

import (
	"strings"
	"testing"
)

func v130(t *testing.T) *Schema {
	t.Helper()
	s, err := V130()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// minimalProcessLaunch is a Process Activity launch with what 1.3.0
// requires and nothing else.
func minimalProcessLaunch() map[string]any {
	return map[string]any{
		"class_uid": 1007, "category_uid": 1, "activity_id": 1, "type_uid": 100701, "severity_id": 1,
		"time":     int64(1764950400000),
		"metadata": map[string]any{"version": "1.3.0", "product": map[string]any{"name": "vigil", "vendor_name": "vigil"}},
		"device":   map[string]any{"hostname": "ws-1", "type_id": 2},
		"actor":    map[string]any{"process": map[string]any{"pid": 42, "name": "psql"}},
		"process":  map[string]any{"pid": 43, "name": "pg_dump"},
	}
}

func TestValidEventHasNoProblems(t *testing.T) {
	if p := v130(t).Validate(minimalProcessLaunch()); len(p) != 0 {
		t.Fatalf("problems in a valid event: %v", p)
	}
}

// Each kind of mistake is reported at its path.
func TestProblemsAreFound(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(map[string]any)
		path  string
		match string
	}{
		{"unknown attribute", func(m map[string]any) { m["rows"] = 3 }, "rows", "not an attribute of process_activity"},
		{"string for an integer", func(m map[string]any) { m["actor"].(map[string]any)["process"].(map[string]any)["pid"] = "42" }, "actor.process.pid", "want an integer"},
		{"enum value", func(m map[string]any) { m["activity_id"] = 42; m["type_uid"] = 100742 }, "activity_id", "is not one of"},
		{"required missing", func(m map[string]any) { delete(m, "severity_id") }, "severity_id", "required by process_activity"},
		{"nested required", func(m map[string]any) { delete(m["metadata"].(map[string]any), "product") }, "metadata.product", "required by metadata"},
		{"type_uid", func(m map[string]any) { m["type_uid"] = 100702 }, "type_uid", "want class_uid*100+activity_id"},
		{"category", func(m map[string]any) { m["category_uid"] = 2 }, "category_uid", "in category 1"},
		{"object for a string", func(m map[string]any) { m["device"].(map[string]any)["hostname"] = map[string]any{} }, "device.hostname", "want a string"},
		{"array", func(m map[string]any) { m["observables"] = map[string]any{} }, "observables", "want an array"},
		{"profile not listed", func(m map[string]any) { m["cloud"] = map[string]any{"provider": "AWS"} }, "cloud", "the cloud profile"},
	} {
		m := minimalProcessLaunch()
		tc.edit(m)
		ps := v130(t).Validate(m)
		found := false
		for _, p := range ps {
			found = found || p.Path == tc.path && strings.Contains(p.What, tc.match)
		}
		if !found {
			t.Errorf("%s: problems %v, want one at %s saying %q", tc.name, ps, tc.path, tc.match)
		}
	}
}

// A profile listed in metadata makes its attributes allowed and its
// required ones required.
func TestProfiles(t *testing.T) {
	m := minimalProcessLaunch()
	m["cloud"] = map[string]any{"provider": "AWS"}
	m["metadata"].(map[string]any)["profiles"] = []any{"cloud"}
	if p := v130(t).Validate(m); len(p) != 0 {
		t.Errorf("a listed profile's attribute: %v", p)
	}
	m = minimalProcessLaunch()
	m["metadata"].(map[string]any)["profiles"] = []any{"security_control"}
	found := false
	for _, p := range v130(t).Validate(m) {
		found = found || p.Path == "action_id" && strings.Contains(p.What, "required")
	}
	if !found {
		t.Error("security_control listed, its required action_id not asked for")
	}
}

// Free-form unmapped data is not checked; an unknown class is.
func TestUnmappedIsFreeAndClassesAreKnown(t *testing.T) {
	m := minimalProcessLaunch()
	m["unmapped"] = map[string]any{"anything": []any{1, "x"}}
	if p := v130(t).Validate(m); len(p) != 0 {
		t.Errorf("unmapped data was checked: %v", p)
	}
	if p := v130(t).Validate(map[string]any{"class_uid": 9999}); len(p) != 1 || !strings.Contains(p[0].What, "not a class") {
		t.Errorf("unknown class: %v", p)
	}
}

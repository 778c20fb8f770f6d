package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMarkup(t *testing.T) {
	for in, want := range map[string]string{
		"'tcp' or 'udp'.":                         "`tcp` or `udp`.",
		"The agent's id (kept in '/var/x').":      "The agent's id (kept in `/var/x`).",
		"Parent's pid.":                           "Parent's pid.",
		"ends in ' ...'.":                         "ends in ` ...`.",
		"'sudo', 'su' and the kernel's 'x'":       "`sudo`, `su` and the kernel's `x`",
		"such as '{\"a\":\"b\"}'.":                "such as `{\"a\":\"b\"}`.",
		"a lone ' quote":                          "a lone ' quote",
		"'<boot_id>-<seq>': the same":             "`<boot_id>-<seq>`: the same",
		"when 'net { include_loopback = true }')": "when `net { include_loopback = true }`)",
	} {
		if got := markup(in); got != want {
			t.Errorf("markup(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplice(t *testing.T) {
	s := &schema{src: "event/event.go"}
	doc := "# t\n<!-- a begin -->\nold\n<!-- a end -->\nprose\n<!-- b begin: anything -->\n<!-- b end -->\n"
	got, err := splice(s, []byte(doc), map[string]string{"a": "A\n", "b": "B\n"})
	want := "# t\n<!-- a begin: generated from event/event.go by make generate-schema -->\nA\n<!-- a end -->\nprose\n" +
		"<!-- b begin: generated from event/event.go by make generate-schema -->\nB\n<!-- b end -->\n"
	if err != nil || string(got) != want {
		t.Fatalf("splice gave %v\n%s", err, got)
	}
	again, err := splice(s, got, map[string]string{"a": "A\n", "b": "B\n"})
	if err != nil || string(again) != want {
		t.Fatalf("splicing its own output changed it: %v\n%s", err, again)
	}
	for name, bad := range map[string]string{
		"no end":       "<!-- a begin -->\nx\n",
		"end only":     "<!-- a end -->\n",
		"missing b":    "<!-- a begin -->\n<!-- a end -->\n",
		"unknown":      "<!-- a begin -->\n<!-- a end -->\n<!-- b begin -->\n<!-- b end -->\n<!-- c begin -->\n<!-- c end -->\n",
		"twice":        "<!-- a begin -->\n<!-- a end -->\n<!-- a begin -->\n<!-- a end -->\n<!-- b begin -->\n<!-- b end -->\n",
		"nested":       "<!-- a begin -->\n<!-- b begin -->\n<!-- b end -->\n<!-- a end -->\n",
		"end mismatch": "<!-- a begin -->\n<!-- b end -->\n<!-- b begin -->\n<!-- b end -->\n",
	} {
		if _, err := splice(s, []byte(bad), map[string]string{"a": "A\n", "b": "B\n"}); err == nil {
			t.Errorf("%s: splice accepted\n%s", name, bad)
		}
	}
}

// TestLoadRefuses checks that the generator names the field and the fix
// when event.go asks for what it cannot generate.
func TestLoadRefuses(t *testing.T) {
	const head = "package event\nimport \"time\"\ntype Kind string\nconst KindA Kind = \"a.b\"\nvar _ time.Time\n"
	for name, c := range map[string]struct{ src, want string }{
		"no doc":      {"type Event struct {\n ID string `json:\"id\"`\n}", "Event.ID needs a doc tag"},
		"no stop":     {"type Event struct {\n ID string `json:\"id\" doc:\"An id\"`\n}", "Event.ID needs a doc tag"},
		"type":        {"type Event struct {\n N int `json:\"n\" doc:\"N.\"`\n}", "type int is not supported"},
		"name":        {"type Event struct {\n ID string `json:\"Id\" doc:\"Id.\"`\n}", `json name "Id"`},
		"twice":       {"type Event struct {\n A string `json:\"a\" doc:\"A.\"`\n B string `json:\"a\" doc:\"B.\"`\n}", `"a" is used twice`},
		"kind":        {"type Event struct {\n P *P `json:\"p\" kinds:\"x.y\" doc:\"P.\"`\n}\ntype P struct{}", `"x.y", which is no Kind constant`},
		"kinds":       {"type Event struct {\n A string `json:\"a\" kinds:\"a.b\" doc:\"A.\"`\n}", "only a payload of Event has a kinds tag"},
		"rule":        {"type Event struct {\n A string `json:\"a\" rule:\"no\" doc:\"A.\"`\n}", `rule tag "no"`},
		"nested":      {"type Event struct {\n P *P `json:\"p\" doc:\"P.\"`\n}\ntype P struct{\n Q *P `json:\"q\" doc:\"Q.\"`\n}", "payloads are fields of Event only"},
		"no struct":   {"type Event struct {\n P *Q `json:\"p\" doc:\"P.\"`\n}", "no struct Q"},
		"float zero":  {"type Event struct {\n F float64 `json:\"f,omitzero\" doc:\"F.\"`\n}", "omitzero on a float"},
		"json option": {"type Event struct {\n A string `json:\"a,string\" doc:\"A.\"`\n}", `json option "string"`},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/m\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		src := filepath.Join(dir, "event.go")
		if err := os.WriteFile(src, []byte(head+c.src+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := load(src); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: load gave %v, want an error saying %q", name, err, c.want)
		}
	}
}

// TestRulesRefuseUnknownType checks a field rules have no helper for asks
// to be tagged.
func TestRulesRefuseUnknownType(t *testing.T) {
	s, err := load("../../event.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range s.objects {
		for _, f := range o.fields {
			if f.typ == tUintMap {
				f.rule = ""
			}
		}
	}
	if _, err := rulesFields(s); err == nil || !strings.Contains(err.Error(), `tag it rule:"-"`) {
		t.Fatalf("rulesFields gave %v for a map of numbers", err)
	}
}

package rules

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestContextIsTheEnclosingExpression checks, for diagnostics on each kind
// of subject, the source text of Subject and of the Context set beside it.
func TestContextIsTheEnclosingExpression(t *testing.T) {
	for _, c := range []struct {
		name, src, summary string
		subject, context   string // "" for no Context
	}{
		{"unknown field inside a larger condition",
			whenRule(`kind == "db.query" && (db.rowz > 1000 || db.bytes > 1e9)`),
			"Unknown field", "db.rowz", "db.rowz > 1000"},
		{"argument of a call",
			whenRule(`kind == "db.query" && startswith(db.rows, "x")`),
			"Invalid function argument", "db.rows", `startswith(db.rows, "x")`},
		{"operand of an operator",
			whenRule(`kind == "db.query" && db.rows > "x"`),
			"Type mismatch", `"x"`, `db.rows > "x"`},
		{"a whole attribute's value",
			"rule \"r\" {\n  scope = \"hots\"\n  severity = \"low\"\n  when = kind == \"db.query\"\n}\n",
			"Invalid scope", `"hots"`, `scope = "hots"`},
		{"an attribute's name",
			thresholdWith("  limit = 1\n  min_history = \"1d\"\n"),
			"Needs baseline", "min_history", `min_history = "1d"`},
		{"a block's name",
			"list \"a b\" {\n  items = []\n}\n",
			"Invalid name", `"a b"`, `list "a b"`},
		{"a reference to a broken condition",
			"condition \"c\" {\n  when = cond.c\n}\n" + whenRule(`kind == "db.query" && cond.c`),
			"Condition refers to itself", "cond.c", "when = cond.c"},
		{"a block as a whole has nothing around it",
			"sequence \"s\" {\n  severity = \"low\"\n  by = [person]\n  window = \"1h\"\n  step \"a\" {\n    when = kind == \"db.query\"\n  }\n}\n",
			"Too few steps", `sequence "s"`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, diags := Load(Source{Name: "t.hcl", Data: []byte(c.src)})
			text := func(r *hcl.Range) string {
				if r == nil {
					return ""
				}
				return string(r.SliceBytes([]byte(c.src)))
			}
			for _, d := range diags {
				if d.Summary != c.summary {
					continue
				}
				if got := text(d.Subject); got != c.subject {
					t.Errorf("Subject %q, want %q", got, c.subject)
				}
				if got := text(d.Context); got != c.context {
					t.Errorf("Context %q, want %q", got, c.context)
				}
				return
			}
			t.Fatalf("no %q diagnostic in\n%s", c.summary, diags.Error())
		})
	}
}

// TestContextInRenderedText checks that the rendered snippet of an error on
// one line of a call spread over several shows the whole call.
func TestContextInRenderedText(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.hcl")
	src := `rule "r" {
  severity = "high"
  when     = kind == "db.query" && contains(
    db.tablez,
    "customers",
  )
}
`
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := LoadFiles(p)
	var b bytes.Buffer
	if err := WriteDiagnostics(&b, diags, 0, false); err != nil {
		t.Fatal(err)
	}
	want := `Error: Unknown field

  on ` + p + ` line 4:
   3:   when     = kind == "db.query" && contains(
   4:     db.tablez,
   5:     "customers",
   6:   )

There is no event field "db.tablez". Did you mean "db.tables"?

`
	if got := b.String(); got != want {
		t.Errorf("rendered:\n%s\nwant:\n%s", got, want)
	}
}

func TestEncloses(t *testing.T) {
	r := func(file string, start, end int) hcl.Range {
		return hcl.Range{Filename: file, Start: hcl.Pos{Byte: start}, End: hcl.Pos{Byte: end}}
	}
	for _, c := range []struct {
		outer, inner hcl.Range
		want         bool
	}{
		{r("a", 0, 10), r("a", 2, 5), true},
		{r("a", 0, 10), r("a", 0, 5), true},
		{r("a", 0, 10), r("a", 5, 10), true},
		{r("a", 0, 10), r("a", 0, 10), false}, // the same range adds nothing
		{r("a", 0, 10), r("a", 5, 11), false},
		{r("a", 0, 10), r("b", 2, 5), false},
		{r("a", 0, 10), r("a", 4, 4), true}, // an empty subject, such as a missing item
	} {
		if got := encloses(c.outer, c.inner); got != c.want {
			t.Errorf("encloses(%v, %v) = %v", c.outer, c.inner, got)
		}
	}
}

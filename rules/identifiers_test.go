package rules

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestIdentifierUsesOfThePack(t *testing.T) {
	files, err := filepath.Glob("packs/*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no packs: %v", err)
	}
	set, diags := LoadFiles(files...)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := set.Identifiers(); !slices.Equal(got, []string{"customer_id"}) {
		t.Fatalf("the pack reads identifiers %v, want [customer_id]", got)
	}
	if d := set.CheckIdentifiers([]string{"customer_id", "email"}); d.HasErrors() {
		t.Fatalf("hashed identifiers reported: %v", d)
	}
	// An agent that hashes its columns under their own names (as
	// identifier_columns does) gives the pack nothing to count.
	d := set.CheckIdentifiers([]string{"customers.id"})
	if !d.HasErrors() {
		t.Fatal("an identifier no agent hashes passed the check")
	}
	var where []string
	for _, e := range d {
		where = append(where, filepath.Base(e.Subject.Filename))
		if !strings.Contains(e.Detail, `db.identifiers["customer_id"]`) || !strings.Contains(e.Detail, `"customers.id"`) {
			t.Errorf("diagnostic does not say what is read and what is hashed: %s", e.Detail)
		}
	}
	slices.Sort(where)
	if !slices.Contains(where, "customer_reads.hcl") || !slices.Contains(where, "correlation.hcl") {
		t.Errorf("diagnostics at %v, want customer_reads.hcl and correlation.hcl", where)
	}
	if got := set.MissingIdentifiers([]string{"email"}); !slices.Equal(got, []string{"customer_id"}) {
		t.Errorf("missing %v, want [customer_id]", got)
	}
}

func TestIdentifierUsesByLiteralAndInConditions(t *testing.T) {
	set, diags := Load(Source{Name: "a.hcl", Data: []byte(`
condition "by_email" {
  when = kind == "db.query" && len(db.identifiers["email"]) > 0
}
rule "r" {
  severity = "low"
  when     = cond.by_email && contains(db.identifiers.customer_no, "x")
}
`)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := set.Identifiers(); !slices.Equal(got, []string{"customer_no", "email"}) {
		t.Fatalf("identifiers %v, want [customer_no email]", got)
	}
	d := set.CheckIdentifiers([]string{"customer_id", "email"})
	if len(d) != 1 || d[0].Subject.Start.Line != 7 || !strings.Contains(d[0].Detail, `Did you mean "customer_id"?`) {
		t.Fatalf("want one error at line 7 with a suggestion, got %v", d)
	}
}

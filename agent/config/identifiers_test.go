package config

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigilhq/vigil/rules"
)

func TestIdentifierDefaults(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []string
	}{
		{``, []string{CustomerIdentifier}},
		{`db { identifier_columns = ["orders.ref"] }`, []string{CustomerIdentifier, "orders.ref"}},
		{`db { identifiers = {} }`, nil},
		{`db {
  identifiers = { customer_id = ["customers.id"], phone = ["phone"] }
}`, []string{"customer_id", "phone"}},
	} {
		c, diags := Parse("agent.hcl", []byte(tc.src))
		if diags.HasErrors() {
			t.Fatalf("%s: %v", tc.src, diags)
		}
		if got := IdentifierNames(c); !slices.Equal(got, tc.want) {
			t.Errorf("%s: identifier names %v, want %v", tc.src, got, tc.want)
		}
	}
	if got := IdentifierNames(Default()); !slices.Equal(got, []string{CustomerIdentifier}) {
		t.Errorf("an agent with no config file hashes %v, want [%s]", got, CustomerIdentifier)
	}
}

// The packaged agent.hcl hashes every identifier the shipped rule pack
// counts: out of the box, distinct customers are counted.
func TestPackagedConfigHashesWhatThePackCounts(t *testing.T) {
	c, diags := Load("../../packaging/etc/agent.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	files, err := filepath.Glob("../../rules/packs/*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no packs: %v", err)
	}
	set, diags := rules.LoadFiles(files...)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(set.Identifiers()) == 0 {
		t.Fatal("the pack counts no identifiers")
	}
	if d := set.CheckIdentifiers(IdentifierNames(c)); d.HasErrors() {
		t.Fatalf("the packaged agent.hcl does not hash what the pack counts: %v", d)
	}
	if cols := c.DB.Identifiers[CustomerIdentifier]; !slices.Contains(cols, "customers.id") || !slices.Contains(cols, "email") {
		t.Errorf("packaged customer columns %v lack customers.id or email", cols)
	}
}

// The packaged file lists the same columns as an agent without one.
func TestPackagedIdentifiersAreTheDefault(t *testing.T) {
	c, diags := Load("../../packaging/etc/agent.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := DefaultIdentifiers()
	if len(c.DB.Identifiers) != len(want) || !slices.Equal(c.DB.Identifiers[CustomerIdentifier], want[CustomerIdentifier]) {
		t.Errorf("packaged identifiers %v, built-in defaults %v", c.DB.Identifiers, want)
	}
}

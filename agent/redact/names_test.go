package redact

import (
	"slices"
	"testing"
)

// Columns grouped under one identifier name report their hashes under that
// name, so a person looking customers up by id in one table and by a
// differently named column in another is counted under one identifier.
func TestIdentifierGroups(t *testing.T) {
	r, err := New(Config{Key: []byte("test-key"), Identifiers: map[string][]string{
		"customer_id": {"customers.id", "customer_id", "email"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sql  string
		want []string
	}{
		{"SELECT * FROM customers WHERE id = 42", []string{r.IdentifierHash("42")}},
		{"SELECT * FROM orders WHERE customer_id = '42'", []string{r.IdentifierHash("42")}},
		{"SELECT * FROM customers WHERE email = 'A@x.com ' OR id IN (7, 8)",
			sorted(r.IdentifierHash("a@x.com"), r.IdentifierHash("7"), r.IdentifierHash("8"))},
		// id of another table is not a customer's.
		{"SELECT * FROM products WHERE id = 42", nil},
	} {
		res := r.Redact(Postgres, c.sql)
		if got := res.Identifiers["customer_id"]; !slices.Equal(got, c.want) {
			t.Errorf("%s: customer_id hashes %v, want %v (all %v)", c.sql, got, c.want, res.Identifiers)
		}
		if len(res.Identifiers) > 1 {
			t.Errorf("%s: identifiers under other names: %v", c.sql, res.Identifiers)
		}
	}
}

package redact

import (
	"reflect"
	"testing"
)

// Every spelling of one table reports the same name: what rules match.
func TestTableIdentity(t *testing.T) {
	r := newTest(t)
	cases := []struct {
		d  Dialect
		in string
	}{
		{Postgres, "SELECT * FROM customers"},
		{Postgres, "SELECT * FROM public.customers"},
		{Postgres, "SELECT * FROM PUBLIC.CUSTOMERS"},
		{Postgres, `SELECT * FROM "customers"`},
		{Postgres, `SELECT * FROM "Customers"`},
		{Postgres, `SELECT * FROM crm."Customers" c WHERE c.id > 5`},
		{Postgres, `SELECT * FROM "public"."customers"`},
		{Postgres, `SELECT * FROM shop.public.customers`},
		{Postgres, `SELECT * FROM ONLY public.customers`},
		{Postgres, `TABLE public."Customers"`},
		{Postgres, `COPY public.customers TO STDOUT`},
		{Postgres, `DECLARE c CURSOR FOR SELECT * FROM public."Customers"`},
		{MySQL, "SELECT * FROM shop.customers"},
		{MySQL, "SELECT * FROM `shop`.`CUSTOMERS`"},
		{MySQL, "SELECT * FROM `Customers`"},
		{MySQL, "HANDLER `shop`.`Customers` OPEN"},
	}
	for _, c := range cases {
		if got := r.Redact(c.d, c.in).Tables; !reflect.DeepEqual(got, []string{"customers"}) {
			t.Errorf("Redact(%q).Tables = %q, want [customers]", c.in, got)
		}
	}
	// A column qualified by the table's alias resolves to the table.
	res := r.Redact(Postgres, `SELECT c.email FROM crm."Customers" c`)
	if !reflect.DeepEqual(res.Columns, []string{"customers.email"}) {
		t.Errorf("columns %q, want [customers.email]", res.Columns)
	}
}

// A configured view or synonym adds its base tables; so does it for an
// identifier column of its one base table.
func TestViews(t *testing.T) {
	r, err := New(Config{Key: []byte("k"), IdentifierColumns: []string{"customers.id"},
		Views: map[string][]string{"crm.Customer_Directory": {"Customers"}, "orders_with_customers": {"orders", "public.customers"}}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in     string
		tables []string
	}{
		{"SELECT * FROM customer_directory WHERE id = 5", []string{"customer_directory", "customers"}},
		{`SELECT * FROM crm."Customer_Directory" d WHERE d.id = 5`, []string{"customer_directory", "customers"}},
		{"SELECT * FROM customer_directory d JOIN customers c ON c.id = d.id", []string{"customer_directory", "customers"}},
		{"SELECT * FROM orders_with_customers", []string{"orders_with_customers", "orders", "customers"}},
		{"SELECT * FROM products", []string{"products"}},
	}
	for _, c := range cases {
		for range 2 { // the second time from the shape caches
			if got := r.Redact(Postgres, c.in).Tables; !reflect.DeepEqual(got, c.tables) {
				t.Errorf("Redact(%q).Tables = %q, want %q", c.in, got, c.tables)
			}
		}
	}
	for _, in := range []string{"SELECT * FROM customer_directory WHERE id = 5", `SELECT * FROM crm."Customer_Directory" d WHERE d.id = 5`} {
		if got := r.Redact(Postgres, in).Identifiers["customers.id"]; !reflect.DeepEqual(got, []string{r.IdentifierHash("5")}) {
			t.Errorf("Redact(%q): customers.id hashes %q, want the hash of 5", in, got)
		}
	}
	// A view over two tables is not one of them for an identifier.
	if got := r.Redact(Postgres, "SELECT * FROM orders_with_customers WHERE id = 5").Identifiers; got != nil {
		t.Errorf("identifiers %v through a view of two tables", got)
	}
	for _, bad := range []map[string][]string{{"v": nil}, {"": {"t"}}, {"v": {" "}}} {
		if _, err := New(Config{Key: []byte("k"), Views: bad}); err == nil {
			t.Errorf("New accepted views %q", bad)
		}
	}
}

func TestCursors(t *testing.T) {
	r := newTest(t)
	cases := []struct {
		d       Dialect
		in      string
		cursor  string
		op      CursorOp
		tables  []string
		columns []string
	}{
		{Postgres, "DECLARE _psql_cursor NO SCROLL CURSOR FOR\nSELECT id, email FROM customers WHERE id > 5", "_psql_cursor", CursorOpen,
			[]string{"customers"}, []string{"email", "id"}},
		{Postgres, `DECLARE "Big" BINARY INSENSITIVE SCROLL CURSOR WITH HOLD FOR TABLE public.customers`, "Big", CursorOpen, []string{"customers"}, nil},
		{Postgres, "DECLARE x", "", CursorNone, nil, nil},
		{Postgres, "FETCH FORWARD 100 FROM _psql_cursor", "_psql_cursor", CursorRead, nil, nil},
		{Postgres, "fetch all in C", "c", CursorRead, nil, nil},
		{Postgres, "FETCH c", "c", CursorRead, nil, nil},
		{Postgres, `FETCH ABSOLUTE -3 FROM "Big"`, "Big", CursorRead, nil, nil},
		{Postgres, "MOVE LAST IN c", "c", CursorRead, nil, nil},
		{Postgres, "FETCH 5", "", CursorNone, nil, nil},
		{Postgres, "CLOSE c", "c", CursorClose, nil, nil},
		{Postgres, "CLOSE ALL", "", CursorClose, nil, nil},
		{Postgres, "DISCARD ALL", "", CursorClose, nil, nil},
		{MySQL, "HANDLER customers OPEN", "customers", CursorOpen, []string{"customers"}, nil},
		{MySQL, "HANDLER shop.customers OPEN AS H", "h", CursorOpen, []string{"customers"}, nil},
		{MySQL, "HANDLER customers OPEN h", "h", CursorOpen, []string{"customers"}, nil},
		{MySQL, "HANDLER h READ `PRIMARY` NEXT LIMIT 100", "h", CursorRead, []string{"h"}, nil},
		{MySQL, "HANDLER h READ `PRIMARY` >= (5)", "h", CursorRead, []string{"h"}, nil},
		{MySQL, "HANDLER h CLOSE", "h", CursorClose, []string{"h"}, nil},
		{Postgres, "SELECT * FROM customers", "", CursorNone, []string{"customers"}, nil},
	}
	for _, c := range cases {
		for range 2 { // the second time from the shape caches
			res := r.Redact(c.d, c.in)
			if res.Cursor != c.cursor || res.CursorOp != c.op || !reflect.DeepEqual(res.Tables, c.tables) || !reflect.DeepEqual(res.Columns, c.columns) {
				t.Errorf("Redact(%q): cursor %q op %d tables %q columns %q, want %q %d %q %q", c.in, res.Cursor, res.CursorOp,
					res.Tables, res.Columns, c.cursor, c.op, c.tables, c.columns)
			}
		}
	}
}

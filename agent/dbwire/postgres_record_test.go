package dbwire

import (
	"testing"

	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
)

// Values bound to parameters compared with identifier columns are hashed
// like literals, in text or binary format.
func TestPostgresBoundIdentifiers(t *testing.T) {
	recs, _ := exchange(t, EnginePostgres, pgPrologue(),
		join(pgParse("q1", "SELECT note FROM customers WHERE email = $1 AND id = $2", 25, 23),
			pgBind("", "q1", []int16{0, 1}, []byte(" A@B.c"), []byte{0, 0, 0, 7}), pgExecute(""), dbwiretest.PgMessage('S')),
		join(dbwiretest.PgMessage('1'), dbwiretest.PgMessage('2'), dbwiretest.PgMessage('C', cstr("SELECT 0")), pgReady()))
	if len(recs) != 1 {
		t.Fatalf("records %q", statements(recs))
	}
	r := testRedactor(t)
	ids := recs[0].DB.Identifiers
	if len(ids["email"]) != 1 || ids["email"][0] != r.IdentifierHash("a@b.c") ||
		len(ids["customers.id"]) != 1 || ids["customers.id"][0] != r.IdentifierHash("7") {
		t.Errorf("identifiers %v", ids)
	}
}

// Without the statement's text (prepared before the tracker started) the
// command comes from the CommandComplete tag.
func TestPostgresCommandFromTag(t *testing.T) {
	recs, _ := exchange(t, EnginePostgres, pgPrologue(),
		join(pgBind("", "old", nil), pgExecute(""), dbwiretest.PgMessage('S')),
		join(dbwiretest.PgMessage('2'), dbwiretest.PgMessage('C', cstr("UPDATE 3")), pgReady()))
	if len(recs) != 1 || recs[0].DB.Statement != "" || recs[0].DB.Command != "UPDATE" || recs[0].DB.Rows != 3 ||
		!recs[0].RowsFromServer {
		t.Fatalf("records %+v", recs)
	}
}

func TestTagFields(t *testing.T) {
	for _, c := range []struct {
		tag         string
		first, last string
		n           int
	}{
		{"SELECT 5", "SELECT", "5", 2}, {"INSERT 0 3", "INSERT", "3", 3}, {"BEGIN", "BEGIN", "BEGIN", 1}, {"", "", "", 0},
	} {
		first, last, n := tagFields([]byte(c.tag))
		if string(first) != c.first || string(last) != c.last || n != c.n {
			t.Errorf("tagFields(%q) = %q %q %d", c.tag, first, last, n)
		}
	}
}

func TestPgParamText(t *testing.T) {
	uuid := []byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	for _, c := range []struct {
		name    string
		formats []int16
		oid     uint32
		v       []byte
		want    string
		ok      bool
	}{
		{"text", nil, 23, []byte("42"), "42", true},
		{"one format for all", []int16{1}, 21, []byte{0xff, 0xfe}, "-2", true},
		{"int4", []int16{1}, 23, []byte{0, 0, 1, 0}, "256", true},
		{"int8", []int16{1}, 20, []byte{0, 0, 0, 0, 0, 0, 0, 9}, "9", true},
		{"unspecified type", []int16{1}, 0, []byte{0, 0, 0, 5}, "5", true},
		{"binary text", []int16{1}, 1043, []byte("a@b"), "a@b", true},
		{"uuid", []int16{1}, 2950, uuid, "12345678-9abc-def0-0123-456789abcdef", true},
		{"other binary", []int16{1}, 17, []byte{0xca, 0xfe}, "cafe", true},
		{"null", nil, 25, nil, "", false},
	} {
		pt := &pgPortal{stmt: &pgStmt{oids: []uint32{c.oid}}, formats: c.formats, params: [][]byte{c.v}}
		if got, ok := pgParamText(pt, 0); got != c.want || ok != c.ok {
			t.Errorf("%s: %q %v, want %q %v", c.name, got, ok, c.want, c.ok)
		}
	}
	if _, ok := pgParamText(&pgPortal{stmt: &pgStmt{}}, 3); ok {
		t.Error("a parameter that was not bound has text")
	}
}

package dbwire

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/event"
)

func pgQuery(sql string) []byte { return dbwiretest.PgMessage('Q', cstr(sql)) }

// pgRows is a RowDescription of cols, a DataRow per value of the first
// column (the others NULL) and the CommandComplete tag.
func pgRows(tag string, cols []string, vals ...string) []byte {
	t := binary.BigEndian.AppendUint16(nil, uint16(len(cols)))
	for i, c := range cols {
		t = append(t, cstr(c)...)
		t = binary.BigEndian.AppendUint32(t, 16400)
		t = binary.BigEndian.AppendUint16(t, uint16(i+1))
		t = binary.BigEndian.AppendUint32(t, 25)
		t = binary.BigEndian.AppendUint16(t, 0xffff)
		t = binary.BigEndian.AppendUint32(t, 0xffffffff)
		t = binary.BigEndian.AppendUint16(t, 0)
	}
	out := dbwiretest.PgMessage('T', t)
	for _, v := range vals {
		d := binary.BigEndian.AppendUint16(nil, uint16(len(cols)))
		d = binary.BigEndian.AppendUint32(d, uint32(len(v)))
		d = append(d, v...)
		for range len(cols) - 1 {
			d = binary.BigEndian.AppendUint32(d, 0xffffffff)
		}
		out = append(out, dbwiretest.PgMessage('D', d)...)
	}
	return join(out, pgDone(tag))
}

func pgDone(tag string) []byte { return join(dbwiretest.PgMessage('C', cstr(tag)), pgReady()) }

// Rows fetched through a cursor are reads of the cursor's query: its
// tables, columns and identifier hashes, with the result's own columns.
// A cursor closed, or never opened, lends nothing.
func TestPostgresCursor(t *testing.T) {
	cols := []string{"id", "email"}
	recs, tr := exchange(t, EnginePostgres, pgPrologue(),
		pgQuery("DECLARE _psql_cursor NO SCROLL CURSOR FOR SELECT id, email FROM public.\"Customers\" WHERE id IN (1, 2) AND email <> '"+marker+"'"),
		pgDone("DECLARE CURSOR"),
		pgQuery("FETCH FORWARD 100 FROM _psql_cursor"), pgRows("FETCH 2", cols, "1", "2"),
		pgQuery("FETCH FORWARD 100 FROM _psql_cursor"), pgRows("FETCH 0", cols),
		pgQuery("CLOSE _psql_cursor"), pgDone("CLOSE CURSOR"),
		pgQuery("FETCH 1 FROM _psql_cursor"), join(pgErrorMessage("34000", `cursor "_psql_cursor" does not exist`), pgReady()),
		pgQuery("DECLARE d CURSOR FOR SELECT * FROM customers"), join(pgErrorMessage("25P01", "DECLARE CURSOR can only be used in transaction blocks"), pgReady()),
		pgQuery("FETCH ALL FROM d"), join(pgErrorMessage("34000", `cursor "d" does not exist`), pgReady()),
	)
	assertNoMarker(t, recs)
	if len(recs) != 7 {
		t.Fatalf("records %q", statements(recs))
	}
	r := testRedactor(t)
	ids := []string{r.IdentifierHash("1"), r.IdentifierHash("2")}
	slices.Sort(ids)
	for i, want := range []struct {
		rows   uint64
		tables []string
	}{{2, []string{"customers"}}, {0, []string{"customers"}}} {
		db := recs[1+i].DB
		if db.Command != "FETCH" || db.Rows != want.rows || !slices.Equal(db.Tables, want.tables) ||
			!slices.Equal(db.Columns, []string{"email", "id"}) || !slices.Equal(db.ResultColumns, cols) ||
			!slices.Equal(db.Identifiers["customers.id"], ids) {
			t.Errorf("fetch %d: %+v", i, db)
		}
	}
	for _, i := range []int{4, 6} {
		if db := recs[i].DB; db.Command != "FETCH" || db.Tables != nil || db.Identifiers != nil {
			t.Errorf("fetch from a closed or never opened cursor: %+v", db)
		}
	}
	if open := tr.openCursors(); len(open) != 0 {
		t.Errorf("cursors left open: %q", open)
	}
}

// A portal described before it runs has its result columns from the
// Describe; Execute's rows bring no RowDescription of their own.
func TestPostgresDescribedResultColumns(t *testing.T) {
	rowDesc := pgRows("SELECT 1", []string{"id", "email"}, "1")
	rowDesc = rowDesc[:len(rowDesc)-len(pgDone("SELECT 1"))-len(dbwiretest.PgMessage('D', binary.BigEndian.AppendUint16(nil, 2), binary.BigEndian.AppendUint32(nil, 1), []byte("1"), binary.BigEndian.AppendUint32(nil, 0xffffffff)))]
	recs, _ := exchange(t, EnginePostgres, pgPrologue(),
		join(pgParse("", "SELECT * FROM customers"), pgBind("", "", nil), dbwiretest.PgMessage('D', []byte{'P'}, cstr("")), pgExecute(""), dbwiretest.PgMessage('S')),
		join(dbwiretest.PgMessage('1'), dbwiretest.PgMessage('2'), rowDesc, pgRows("SELECT 1", nil)[len(pgRows("", nil))-len(pgDone("")):]),
	)
	if len(recs) != 1 || !slices.Equal(recs[0].DB.ResultColumns, []string{"id", "email"}) || recs[0].DB.Columns != nil {
		t.Fatalf("records %+v", recs)
	}
}

// myColumnDef is a ColumnDefinition41 for column name of table.
func myColumnDef(seq byte, table, name string) []byte {
	lenenc := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	b := join(lenenc("def"), lenenc("shop"), lenenc(table), lenenc(table), lenenc(name), lenenc(name))
	return dbwiretest.MySQLPacket(seq, b, []byte{0x0c, 0x21, 0, 0, 1, 0, 0, 0xfd, 0, 0, 0, 0, 0})
}

// myEOFPacket is an EOF (or, with deprecated EOF, the OK that ends rows).
func myEOFPacket(seq byte, status uint16) []byte {
	return dbwiretest.MySQLPacket(seq, []byte{0xfe, 0, 0, byte(status), byte(status >> 8), 0, 0})
}

// myTextRows is a text result set of cols with one row per value (the
// other columns empty), deprecated EOF.
func myTextRows(cols []string, vals ...string) []byte {
	out := dbwiretest.MySQLPacket(1, []byte{byte(len(cols))})
	seq := byte(2)
	for _, c := range cols {
		out = append(out, myColumnDef(seq, "customers", c)...)
		seq++
	}
	for _, v := range vals {
		row := append([]byte{byte(len(v))}, v...)
		for range len(cols) - 1 {
			row = append(row, 0)
		}
		out = append(out, dbwiretest.MySQLPacket(seq, row)...)
		seq++
	}
	return append(out, myEOFPacket(seq, 2)...)
}

// HANDLER reads a table like a cursor: the rows read through an alias are
// reads of the table it was opened on.
func TestMySQLHandler(t *testing.T) {
	cols := []string{"id", "email"}
	recs, tr := exchange(t, EngineMySQL, myPrologue(),
		myCmdText(myComQuery, "HANDLER `shop`.`Customers` OPEN AS h"), myOKPacket(1, 0, 2),
		myCmdText(myComQuery, "HANDLER h READ `PRIMARY` FIRST"), myTextRows(cols, "1"),
		myCmdText(myComQuery, "HANDLER h READ `PRIMARY` NEXT LIMIT 2"), myTextRows(cols, "2", "3"),
		myCmdText(myComQuery, "HANDLER h CLOSE"), myOKPacket(1, 0, 2),
		myCmdText(myComQuery, "HANDLER h READ `PRIMARY` NEXT"), myErrPacket(1, 1109, "42S02", "Unknown table 'h' in HANDLER"),
	)
	if len(recs) != 5 {
		t.Fatalf("records %q", statements(recs))
	}
	for i, rows := range []uint64{1, 2} {
		db := recs[1+i].DB
		if db.Command != "HANDLER" || db.Rows != rows || !slices.Equal(db.Tables, []string{"customers"}) || !slices.Equal(db.ResultColumns, cols) {
			t.Errorf("read %d: %+v", i, db)
		}
	}
	if db := recs[4].DB; !slices.Equal(db.Tables, []string{"h"}) {
		t.Errorf("read after close: tables %q, want the alias as written", db.Tables)
	}
	if open := tr.openCursors(); len(open) != 0 {
		t.Errorf("cursors left open: %q", open)
	}
}

// withoutDeprecateEOF turns the client's capabilities in a MySQL prologue
// from dbwiretest to the classic protocol, with EOF packets.
func withoutDeprecateEOF(p []dbwiretest.Capture) []dbwiretest.Capture {
	out := slices.Clone(p)
	resp := slices.Clone(out[1].Data)
	resp[4+3] &^= myClientDeprecateEOF >> 24
	out[1].Data = resp
	return out
}

// Rows fetched from a prepared statement's cursor (COM_STMT_FETCH) are
// reads of that statement: its text, tables and the columns its prepare
// described. The execute that opens the cursor ends at the EOF that says
// a cursor exists, returning no rows.
func TestMySQLStmtFetch(t *testing.T) {
	const cursorExists, lastRow = 0x0040, 0x0080
	for _, deprecateEOF := range []bool{true, false} {
		prologue := myPrologue()
		eof := func(seq byte, status uint16) []byte { return myEOFPacket(seq, status) }
		if !deprecateEOF {
			prologue = withoutDeprecateEOF(prologue)
		}
		// Prepare: OK, one parameter definition, two column definitions.
		prep := join(dbwiretest.MySQLPacket(1, []byte{0, 1, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0}), myColumnDef(2, "", "?"))
		seq := byte(3)
		if !deprecateEOF {
			prep = append(prep, eof(seq, 2)...)
			seq++
		}
		prep = join(prep, myColumnDef(seq, "customers", "id"), myColumnDef(seq+1, "customers", "email"))
		seq += 2
		if !deprecateEOF {
			prep = append(prep, eof(seq, 2)...)
		}
		// Execute with CURSOR_TYPE_READ_ONLY: metadata, then the EOF
		// saying a cursor exists.
		exec := myCmdPacket(myComStmtExecute, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 3, 0, 5, 0, 0, 0)
		execResp := join(dbwiretest.MySQLPacket(1, []byte{2}), myColumnDef(2, "customers", "id"), myColumnDef(3, "customers", "email"),
			eof(4, 2|cursorExists))
		binRow := func(seq byte, v byte) []byte { return dbwiretest.MySQLPacket(seq, []byte{0, 0b1000, v, 0, 0, 0}) }
		fetch := myCmdPacket(myComStmtFetch, 1, 0, 0, 0, 2, 0, 0, 0)
		recs, _ := exchange(t, EngineMySQL, prologue,
			myCmdText(myComStmtPrepare, "SELECT * FROM shop.customers WHERE id > ?"), prep,
			exec, execResp,
			fetch, join(binRow(1, 6), binRow(2, 7), eof(3, 2|cursorExists)),
			fetch, join(binRow(1, 8), eof(2, 2|cursorExists|lastRow)),
		)
		if len(recs) != 3 {
			t.Fatalf("deprecate EOF %v: records %q", deprecateEOF, statements(recs))
		}
		if r := recs[0]; r.DB.Rows != 0 || r.Partial || !slices.Equal(r.DB.ResultColumns, []string{"id", "email"}) {
			t.Errorf("deprecate EOF %v: execute %+v partial %v", deprecateEOF, r.DB, r.Partial)
		}
		for i, rows := range []uint64{2, 1} {
			r := recs[1+i]
			if r.DB.Command != "SELECT" || r.DB.Statement != "SELECT * FROM shop.customers WHERE id > ?" || r.DB.Rows != rows || r.Partial ||
				!slices.Equal(r.DB.Tables, []string{"customers"}) || !slices.Equal(r.DB.ResultColumns, []string{"id", "email"}) {
				t.Errorf("deprecate EOF %v: fetch %d: %+v partial %v", deprecateEOF, i, r.DB, r.Partial)
			}
		}
	}
}

// myExprColumnDef is the column definition MySQL sends for an expression:
// named after its text, with no table or org_name.
func myExprColumnDef(seq byte, name string) []byte {
	lenenc := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	return dbwiretest.MySQLPacket(seq, join(lenenc("def"), lenenc(""), lenenc(""), lenenc(""), lenenc(name), lenenc("")),
		[]byte{0x0c, 0x21, 0, 0, 1, 0, 0, 0xfd, 0, 0, 0, 0, 0})
}

// myAliasColumnDef is the column definition of a table's column org that
// the statement names name (SELECT org AS name).
func myAliasColumnDef(seq byte, table, org, name string) []byte {
	lenenc := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	return dbwiretest.MySQLPacket(seq, join(lenenc("def"), lenenc("shop"), lenenc(table), lenenc(table), lenenc(name), lenenc(org)),
		[]byte{0x0c, 0x21, 0, 0, 1, 0, 0, 0xfd, 0, 0, 0, 0, 0})
}

// MySQL takes a string literal for an alias: a table's column is named as
// the table names it, which is also what was read, however it was spelt;
// a derived table's column only as the statement shows it.
func TestResultColumnsOfAliases(t *testing.T) {
	recs, _ := exchange(t, EngineMySQL, myPrologue(),
		myCmdText(myComQuery, "SELECT email AS '"+marker+"', id AS e, NAME FROM customers"),
		join(dbwiretest.MySQLPacket(1, []byte{3}), myAliasColumnDef(2, "customers", "email", marker),
			myAliasColumnDef(3, "customers", "id", "e"), myAliasColumnDef(4, "customers", "name", "NAME"), myEOFPacket(5, 2)),
	)
	assertNoMarker(t, recs)
	if len(recs) != 1 || !slices.Equal(recs[0].DB.ResultColumns, []string{"email", "id", "name"}) {
		t.Fatalf("records %+v", recs)
	}
	// A derived table's columns have an org_table and org_name, named after
	// the text of what they select.
	recs, _ = exchange(t, EngineMySQL, myPrologue(),
		myCmdText(myComQuery, "SELECT * FROM (SELECT '"+marker+"', email FROM customers) d"),
		join(dbwiretest.MySQLPacket(1, []byte{2}), myAliasColumnDef(2, "d", marker, marker),
			myAliasColumnDef(3, "d", "email", "email"), myEOFPacket(4, 2)),
	)
	assertNoMarker(t, recs)
	if len(recs) != 1 || !slices.Equal(recs[0].DB.ResultColumns, []string{"email"}) {
		t.Fatalf("records %+v", recs)
	}
}

// The names of a result's columns never carry a literal: MySQL names an
// expression's column after its text, and PostgreSQL after its function.
func TestResultColumnsCarryNoLiteral(t *testing.T) {
	recs, _ := exchange(t, EngineMySQL, myPrologue(),
		myCmdText(myComQuery, "SELECT id, '"+marker+"', CONCAT('"+marker+"', email), UPPER(email) FROM customers"),
		join(dbwiretest.MySQLPacket(1, []byte{4}), myColumnDef(2, "customers", "id"), myExprColumnDef(3, marker),
			myExprColumnDef(4, "CONCAT('"+marker+"', email)"), myExprColumnDef(5, "UPPER(email)"), myEOFPacket(6, 2)),
	)
	assertNoMarker(t, recs)
	if len(recs) != 1 || !slices.Equal(recs[0].DB.ResultColumns, []string{"id", "UPPER(email)"}) {
		t.Fatalf("records %+v", recs)
	}
	expr := pgRows("SELECT 1", []string{"json_agg"})
	binary.BigEndian.PutUint32(expr[5+2+len("json_agg")+1:], 0) // table OID 0: an expression
	recs, _ = exchange(t, EnginePostgres, pgPrologue(),
		pgQuery("SELECT json_agg(c) FROM customers c"), expr,
		pgQuery("SELECT 'x' AS \"json_agg\"; SELECT '"+marker+"'"), join(expr[:len(expr)-len(pgDone("SELECT 1"))], pgDone("SELECT 1")),
	)
	if len(recs) != 2 || !slices.Equal(recs[0].DB.ResultColumns, []string{"json_agg"}) || !slices.Equal(recs[1].DB.ResultColumns, []string{"json_agg"}) {
		t.Fatalf("records %+v", recs)
	}
}

// A connection that opens cursors without closing them keeps at most
// MaxPending, and each one forgotten is counted.
func TestCursorsBounded(t *testing.T) {
	tr, err := NewTracker(Config{Engine: EnginePostgres, Redactor: testRedactor(t), MaxPending: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b", "c", "c", "d"} {
		db := &event.DB{Tables: []string{"customers"}}
		tr.throughCursor(db, &redact.Result{Cursor: name, CursorOp: redact.CursorOpen}, false)
	}
	if open := tr.openCursors(); len(open) != 2 || tr.Stats().Evicted != 2 {
		t.Errorf("open cursors %q, evicted %d: want 2 and 2", open, tr.Stats().Evicted)
	}
}

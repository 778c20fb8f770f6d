package dbwire

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
)

func pgErrorMessage(code, msg string) []byte {
	return dbwiretest.PgMessage('E', []byte{'S'}, cstr("ERROR"), []byte{'C'}, cstr(code), []byte{'M'}, cstr(msg), []byte{0})
}

func pgParse(name, sql string, oids ...uint32) []byte {
	b := binary.BigEndian.AppendUint16(append(cstr(name), cstr(sql)...), uint16(len(oids)))
	for _, o := range oids {
		b = binary.BigEndian.AppendUint32(b, o)
	}
	return dbwiretest.PgMessage('P', b)
}

// pgBind binds portal to stmt with the given formats and values (nil is
// NULL).
func pgBind(portal, stmt string, formats []int16, values ...[]byte) []byte {
	b := binary.BigEndian.AppendUint16(append(cstr(portal), cstr(stmt)...), uint16(len(formats)))
	for _, f := range formats {
		b = binary.BigEndian.AppendUint16(b, uint16(f))
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(values)))
	for _, v := range values {
		if v == nil {
			b = binary.BigEndian.AppendUint32(b, 0xffffffff)
			continue
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	return dbwiretest.PgMessage('B', binary.BigEndian.AppendUint16(b, 0))
}

func pgExecute(portal string) []byte {
	return dbwiretest.PgMessage('E', cstr(portal), []byte{0, 0, 0, 0})
}

func pgReady() []byte { return dbwiretest.PgMessage('Z', []byte{'I'}) }

// Each statement of a simple query is its own record; a statement the server
// skipped after an error is not reported.
func TestPostgresSimpleQueryParts(t *testing.T) {
	recs, _ := exchange(t, EnginePostgres, pgPrologue(),
		dbwiretest.PgMessage('Q', cstr("SELECT 1; UPDATE t SET a = 2 WHERE id = 3")),
		join(dbwiretest.PgMessage('T', []byte{0, 1}, cstr("?column?"), make([]byte, 18)), dbwiretest.PgMessage('D', []byte{0, 1, 0, 0, 0, 1, '1'}),
			dbwiretest.PgMessage('C', cstr("SELECT 1")), dbwiretest.PgMessage('C', cstr("UPDATE 4")), pgReady()),
		dbwiretest.PgMessage('Q', cstr("SELECT 1; SELECT nope; SELECT 2")),
		join(dbwiretest.PgMessage('C', cstr("SELECT 1")), pgErrorMessage("42703", `column "nope" does not exist`), pgReady()))
	want := []string{"SELECT ?", "UPDATE t SET a = ? WHERE id = ?", "SELECT ?", "SELECT nope"}
	if got := statements(recs); !slices.Equal(got, want) {
		t.Fatalf("statements %q, want %q", got, want)
	}
	if r := recs[1]; r.DB.Rows != 4 || !r.RowsFromServer || r.DB.Command != "UPDATE" {
		t.Errorf("update: %+v", r)
	}
	if r := recs[3]; r.DB.ErrorCode != "42703" || r.DB.Error != `undefined_column: column "?" does not exist` {
		t.Errorf("failed part: %+v", r.DB)
	}
}

// An error in an extended-protocol batch ends it: the server skips to Sync,
// so the statements after the failed one are not reported.
func TestPostgresExtendedErrorSkipsToSync(t *testing.T) {
	recs, _ := exchange(t, EnginePostgres, pgPrologue(),
		join(pgParse("", "UPDATE t SET a = 1 / 0 WHERE id = $1"), pgBind("", "", nil, []byte("5")), pgExecute(""),
			pgParse("", "DELETE FROM t"), pgBind("", "", nil), pgExecute(""), dbwiretest.PgMessage('S')),
		join(dbwiretest.PgMessage('1'), dbwiretest.PgMessage('2'), pgErrorMessage("22012", "division by zero"), pgReady()))
	if len(recs) != 1 {
		t.Fatalf("records %q, want only the failed update", statements(recs))
	}
	if r := recs[0]; r.DB.Statement != "UPDATE t SET a = ? / ? WHERE id = $1" || r.DB.ErrorCode != "22012" ||
		r.DB.Error != "division_by_zero: division by zero" {
		t.Errorf("failed execute: %+v", r.DB)
	}
}

// A request left without an answer is reported, as Partial, when the
// connection closes.
func TestPostgresCloseReportsPending(t *testing.T) {
	recs, _ := exchange(t, EnginePostgres, pgPrologue(), dbwiretest.PgMessage('Q', cstr("SELECT * FROM t WHERE id = 7")))
	if len(recs) != 1 || recs[0].DB.Statement != "SELECT * FROM t WHERE id = ?" || !recs[0].Partial {
		t.Fatalf("records %+v, want the pending query, partial", recs)
	}
}

// pgStarted is a PostgreSQL tracker bounded by maxPending, past the
// connection's startup.
func pgStarted(t *testing.T, maxPending int) (*Tracker, time.Time) {
	t.Helper()
	tr, err := NewTracker(Config{Engine: EnginePostgres, Redactor: testRedactor(t), MaxPending: maxPending})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	for _, c := range pgPrologue() {
		dir := ServerToClient
		if c.FromClient {
			dir = ClientToServer
		}
		tr.Feed(dir, ts, c.Data)
	}
	return tr, ts
}

// Requests the server never answers are bounded by MaxPending: the oldest go.
func TestPostgresPendingBounded(t *testing.T) {
	tr, ts := pgStarted(t, 4)
	tables := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	for _, tbl := range tables {
		tr.Feed(ClientToServer, ts, dbwiretest.PgMessage('Q', cstr("SELECT * FROM "+tbl)))
	}
	var got []string
	for _, r := range tr.Close(ts) {
		got = append(got, r.DB.Tables...)
	}
	if !slices.Equal(got, tables[6:]) || tr.Stats().ParseErrors != 6 {
		t.Errorf("reported tables %q with %d parse errors, want %q and 6", got, tr.Stats().ParseErrors, tables[6:])
	}
}

// Named prepared statements and portals past MaxPending are forgotten and
// counted in Stats.Evicted (a statement executed after its eviction loses
// its text), while redefining a known name forgets nothing.
func TestPostgresPreparedBoundedAndCounted(t *testing.T) {
	tr, ts := pgStarted(t, 4)
	for i := range 7 {
		name := fmt.Sprintf("s%d", i)
		tr.Feed(ClientToServer, ts, dbwiretest.PgMessage('P', cstr(name), cstr("SELECT 1"), []byte{0, 0}))
		tr.Feed(ClientToServer, ts, pgBind("p"+name, name, nil))
	}
	tr.Feed(ClientToServer, ts, dbwiretest.PgMessage('P', cstr("s6"), cstr("SELECT 2"), []byte{0, 0}))
	if ev := tr.Stats().Evicted; ev != 6 {
		t.Errorf("evicted %d, want 3 statements and 3 portals", ev)
	}
}

func TestPgBindValues(t *testing.T) {
	body := pgBind("p", "s", []int16{0, 1}, []byte("x"), nil, []byte{0, 0, 0, 7})
	_, rest, _ := cstring(body[5:])
	_, rest, _ = cstring(rest)
	formats, params := pgBindValues(rest)
	if !slices.Equal(formats, []int16{0, 1}) || len(params) != 3 || string(params[0]) != "x" || params[1] != nil ||
		!slices.Equal(params[2], []byte{0, 0, 0, 7}) {
		t.Errorf("formats %v params %q", formats, params)
	}
	// Values are copies: the reader reuses its buffer.
	rest[len(rest)-3] = 'y'
	if params[2][3] != 7 {
		t.Error("bound value aliases the message buffer")
	}
	// A value cut short by the capture is left out, the ones before kept.
	if _, params := pgBindValues(rest[:len(rest)-4]); len(params) != 2 {
		t.Errorf("cut message: params %q, want the first two", params)
	}
}

package dbwire

import (
	"testing"

	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
	"github.com/vigilhq/vigil/agent/redact"
)

// A value bound to a prepared statement's placeholder compared with an
// identifier column is hashed like a literal.
func TestMySQLBoundIdentifier(t *testing.T) {
	execute := myCmdPacket(myComStmtExecute, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0xfd, 0, 6, ' ', 'A', '@', 'b', '.', 'c')
	recs, _ := exchange(t, EngineMySQL, myPrologue(),
		myCmdText(myComStmtPrepare, "UPDATE customers SET note = 'x' WHERE email = ?"),
		join(dbwiretest.MySQLPacket(1, []byte{0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}), dbwiretest.MySQLPacket(2, []byte{3, 'd', 'e', 'f'})),
		execute, myOKPacket(1, 1, 2))
	if len(recs) != 1 {
		t.Fatalf("records %q", statements(recs))
	}
	if ids := recs[0].DB.Identifiers["email"]; len(ids) != 1 || ids[0] != testRedactor(t).IdentifierHash("a@b.c") {
		t.Errorf("identifiers %v", recs[0].DB.Identifiers)
	}
}

// USE changes the session's database when it succeeds.
func TestMySQLUse(t *testing.T) {
	recs, tr := exchange(t, EngineMySQL, myPrologue(),
		myCmdText(myComQuery, "USE orders"), myOKPacket(1, 0, 2),
		myCmdText(myComQuery, "USE nope"), myErrPacket(1, 1049, "42000", "Unknown database 'nope'"))
	if len(recs) != 2 || recs[0].DB.Database != "shop" || recs[1].DB.Database != "orders" || tr.Session().Database != "orders" {
		t.Errorf("records %+v, session %+v", recs, tr.Session())
	}
}

// A statement whose answer carries NO_BACKSLASH_ESCAPES is redacted in that
// dialect: text whose literals it splits otherwise fails closed.
func TestMySQLNoBackslashEscapes(t *testing.T) {
	const sql = `SELECT 'a\' , b FROM t WHERE c = '1'`
	recs, _ := exchange(t, EngineMySQL, myPrologue(),
		myCmdText(myComQuery, sql), myOKPacket(1, 0, 2),
		myCmdText(myComQuery, sql), myOKPacket(1, 0, 2|myServerNoBackslash),
		myCmdText(myComQuery, sql), myOKPacket(1, 0, 2))
	if len(recs) != 3 || recs[0].DB.Statement == redact.Unparsable || recs[1].DB.Statement != redact.Unparsable ||
		recs[2].DB.Statement == redact.Unparsable {
		t.Errorf("statements %q: want only the one answered with the flag unparsable", statements(recs))
	}
}

package dbwire

import (
	"slices"
	"testing"

	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
)

func myPrologue() []dbwiretest.Capture { return dbwiretest.MySQLHandshake("alice", "shop") }

func myCmdPacket(cmd byte, arg ...byte) []byte {
	return dbwiretest.MySQLPacket(0, []byte{cmd}, arg)
}

func myCmdText(cmd byte, text string) []byte { return myCmdPacket(cmd, []byte(text)...) }

// myOKPacket is an OK packet with small affected rows and status flags.
func myOKPacket(seq byte, affected byte, status uint16) []byte {
	return dbwiretest.MySQLPacket(seq, []byte{0, affected, 0, byte(status), byte(status >> 8), 0, 0})
}

func myErrPacket(seq byte, code uint16, state, msg string) []byte {
	return dbwiretest.MySQLPacket(seq, []byte{0xff, byte(code), byte(code >> 8), '#'}, []byte(state), []byte(msg))
}

// COM_INIT_DB changes the session's database when the server accepts it,
// and is not a statement.
func TestMySQLInitDB(t *testing.T) {
	recs, tr := exchange(t, EngineMySQL, myPrologue(),
		myCmdText(myComInitDB, "orders"), myOKPacket(1, 0, 2),
		myCmdText(myComInitDB, "nope"), myErrPacket(1, 1049, "42000", "Unknown database 'nope'"))
	if len(recs) != 0 || tr.Session().Database != "orders" {
		t.Errorf("records %+v, database %q; want none and orders", recs, tr.Session().Database)
	}
}

// A command sent before the previous one's answer ends that one: it is
// reported, as Partial.
func TestMySQLUnansweredCommand(t *testing.T) {
	recs, _ := exchange(t, EngineMySQL, myPrologue(),
		join(myCmdText(myComQuery, "SELECT * FROM a"), myCmdText(myComQuery, "DELETE FROM b WHERE id = 1")),
		myOKPacket(1, 1, 2))
	if got := statements(recs); !slices.Equal(got, []string{"SELECT * FROM a", "DELETE FROM b WHERE id = ?"}) {
		t.Fatalf("statements %q", got)
	}
	if !recs[0].Partial || recs[1].Partial || recs[1].DB.Rows != 1 || !recs[1].RowsFromServer {
		t.Errorf("records %+v", recs)
	}
}

// COM_STMT_CLOSE takes no answer and forgets the statement: an execute of
// its id no longer knows the text.
func TestMySQLStmtClose(t *testing.T) {
	execute := myCmdPacket(myComStmtExecute, 1, 0, 0, 0, 0, 1, 0, 0, 0)
	recs, _ := exchange(t, EngineMySQL, myPrologue(),
		myCmdText(myComStmtPrepare, "DELETE FROM t"), dbwiretest.MySQLPacket(1, []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
		execute, myOKPacket(1, 2, 2),
		join(myCmdPacket(myComStmtClose, 1, 0, 0, 0), execute), myOKPacket(1, 0, 2))
	if got := statements(recs); !slices.Equal(got, []string{"DELETE FROM t", ""}) {
		t.Errorf("statements %q, want the execute after close without text", got)
	}
}

// COM_CHANGE_USER switches the session's user.
func TestMySQLChangeUser(t *testing.T) {
	recs, tr := exchange(t, EngineMySQL, myPrologue(),
		myCmdPacket(myComChangeUser, cstr("bob")...), myOKPacket(1, 0, 2),
		myCmdText(myComQuery, "SELECT 1"), myOKPacket(1, 0, 2))
	if tr.Session().User != "bob" || len(recs) != 1 || recs[0].DB.User != "bob" {
		t.Errorf("session %+v records %+v", tr.Session(), recs)
	}
}

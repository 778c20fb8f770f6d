package dbwire

import (
	"encoding/binary"
	"time"

	"github.com/vigilhq/vigil/agent/redact"
)

// MySQL commands.
const (
	myComQuit        = 0x01
	myComInitDB      = 0x02
	myComQuery       = 0x03
	myComFieldList   = 0x04
	myComChangeUser  = 0x11
	myComStmtPrepare = 0x16
	myComStmtExecute = 0x17
	myComStmtSend    = 0x18
	myComStmtClose   = 0x19
	myComStmtFetch   = 0x1c
	myComBulkExecute = 0xfa
)

func (m *mysql) clientPacket(ts time.Time, seq byte, body []byte, complete bool) {
	switch m.phase {
	case myStart, myGreeted:
		m.handshakeResponse(body)
		return
	case myAuth:
		if seq != 0 {
			return // authentication data
		}
		// A command before the OK we missed: authentication is over.
		m.phase = myCommand
	}
	if seq != 0 || len(body) == 0 {
		return // LOCAL INFILE data or a continuation
	}
	if m.cmd != nil {
		// A new command means the previous one's answer is over, seen or not.
		m.cmd.partial = true
		m.finishCmd(ts, "", "", "", false)
	}
	m.state, m.gapped, m.lastSeq = rsIdle, 0, seq
	c := &myCmd{cmd: body[0], start: ts}
	arg := body[1:]
	switch body[0] {
	case myComQuery:
		if m.caps&myClientQueryAttributes != 0 {
			// Query attributes: parameter count and set count precede the
			// text; only the common case of none is skipped here.
			if len(arg) >= 2 && arg[0] == 0 && arg[1] == 1 {
				arg = arg[2:]
			} else {
				arg = nil
			}
		}
		c.parts = redact.Split(redact.MySQL, string(arg))
		m.state = rsFirst
	case myComStmtPrepare:
		c.prepare = string(arg)
		m.state = rsPrepare
	case myComStmtExecute, myComBulkExecute:
		if len(arg) >= 4 {
			c.stmt = m.stmts[binary.LittleEndian.Uint32(arg)]
		}
		if c.stmt == nil {
			c.stmt = &myStmt{}
		}
		if body[0] == myComStmtExecute && complete {
			c.params, c.hasVals = myExecuteParams(c.stmt, arg)
		}
		m.state = rsFirst
	case myComStmtFetch:
		// The rows of a cursor the statement's execute opened.
		if len(arg) >= 4 {
			c.stmt = m.stmts[binary.LittleEndian.Uint32(arg)]
		}
		m.state = rsRows
	case myComInitDB:
		c.initDB = string(arg)
		m.state = rsSimple
	case myComFieldList:
		m.state = rsUntilEOF
	case myComStmtClose:
		if len(arg) >= 4 {
			delete(m.stmts, binary.LittleEndian.Uint32(arg))
		}
		return // no answer
	case myComStmtSend:
		return // no answer
	case myComQuit:
		return
	case myComChangeUser:
		if u, _, ok := cstring(arg); ok {
			m.t.sess.User = u
		}
		m.phase = myAuth
		return
	default:
		m.state = rsSimple
	}
	m.cmd = c
}

func (m *mysql) flush(ts time.Time) {
	if m.cmd != nil {
		m.cmd.partial = true
		m.finishCmd(ts, "", "", "", false)
	}
}

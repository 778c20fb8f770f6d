package dbwire

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/agent/redact"
)

// MySQL capability flags and constants.
const (
	myClientConnectWithDB    = 0x00000008
	myClientCompress         = 0x00000020
	myClientProtocol41       = 0x00000200
	myClientSSL              = 0x00000800
	myClientSecureConn       = 0x00008000
	myClientPluginAuth       = 0x00080000
	myClientPluginAuthLenenc = 0x00200000
	myClientDeprecateEOF     = 0x01000000
	myClientQueryAttributes  = 0x08000000

	myServerMoreResults = 0x0008
	myServerNoBackslash = 0x0200

	myHeaderLen    = 4
	myMaxPacket    = 0xffffff
	myRowKeep      = 32 // bytes of a row packet kept: enough for EOF/OK/ERR heads
	myMaxHandshake = 4096
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

type myPhase uint8

const (
	myStart   myPhase = iota // nothing seen
	myGreeted                // server greeting seen, handshake response due
	myAuth                   // handshake response sent, waiting for OK
	myCommand                // command phase
	myEncrypted
)

// response states
type myState uint8

const (
	rsIdle     myState = iota // no command in progress
	rsFirst                   // first packet of a result: OK, ERR, LOCAL INFILE or column count
	rsCols                    // column definitions
	rsColsEOF                 // EOF after column definitions
	rsRows                    // rows until EOF/OK
	rsPrepare                 // COM_STMT_PREPARE response head
	rsSkip                    // skip n packets (prepare metadata)
	rsUntilEOF                // COM_FIELD_LIST: packets until EOF
	rsSimple                  // one OK or ERR
	rsInfile                  // LOCAL INFILE: client sends the file
)

type myStmt struct {
	sql     string
	nparams int
	columns []string
	types   []byte // two bytes per parameter, from the last execute that sent them
}

// myCmd is the command in progress.
type myCmd struct {
	cmd     byte
	start   time.Time
	parts   []string // COM_QUERY: statements
	idx     int
	stmt    *myStmt
	params  []string // COM_STMT_EXECUTE: parameter values as text ("" unknown)
	hasVals []bool
	initDB  string
	prepare string
	// current result
	rows     uint64
	rowBytes uint64 // bytes of the rows seen
	rowsSeen uint64
	bytes    uint64
	columns  []string
	partial  bool
}

type mysql struct {
	t       *Tracker
	client  reader
	server  reader
	phase   myPhase
	srvCaps uint32
	caps    uint32 // effective capabilities
	status  uint16
	stmts   map[uint32]*myStmt
	cmd     *myCmd
	state   myState
	ncols   int
	left    int // column definitions or packets still to come
	lastSeq byte
	gapped  int // bytes lost in the server stream since the last packet
	cont    [3]bool
	probe   []byte
	// mariaCaps are MariaDB's extended client capabilities.
	mariaCaps uint32
	decided   bool // whether the connection's start was seen
	probeDir  Direction
	// skipCols is the index, among the packets skipped after a prepare, of
	// the first column definition.
	skipCols int
	prepared *myStmt
}

// mariaCacheMetadata: COM_STMT_EXECUTE results say whether column
// definitions follow or are the ones sent at prepare.
const mariaCacheMetadata = 1 << 4

func newMySQL(t *Tracker) *mysql {
	m := &mysql{t: t, stmts: map[uint32]*myStmt{}}
	m.client = reader{dir: ClientToServer, t: t, f: m}
	m.server = reader{dir: ServerToClient, t: t, f: m}
	return m
}

func (m *mysql) deprecateEOF() bool { return m.caps&myClientDeprecateEOF != 0 }

func (m *mysql) feed(dir Direction, ts time.Time, data []byte, missing int) {
	if !m.decided {
		if len(m.probe) > 0 && dir != m.probeDir {
			// The other side spoke first: decide on what the first had.
			p := m.probe
			m.probe = nil
			m.feedStart(m.probeDir, ts, p, 0)
		} else if missing == 0 && len(m.probe)+len(data) < myProbeNeed(append(m.probe[:len(m.probe):len(m.probe)], data...)) {
			// Too little to tell a greeting or handshake response: wait.
			m.probe = append(m.probe, data...)
			m.probeDir = dir
			return
		} else if len(m.probe) > 0 {
			data = append(m.probe, data...)
			m.probe = nil
		}
	}
	m.feedStart(dir, ts, data, missing)
}

func (m *mysql) feedStart(dir Direction, ts time.Time, data []byte, missing int) {
	if m.phase == myStart && !m.decided {
		m.decided = true
		switch {
		case dir == ServerToClient && myGreeting(data):
		case dir == ClientToServer && myHandshakeResponse(data):
		default:
			// Mid-connection: commands are sent whole, so the client side
			// syncs on the next command; the server side on its answer.
			m.phase = myCommand
			m.client.lost = true
			m.server.lost = true
		}
	}
	if dir == ClientToServer {
		m.client.feed(ts, data, missing)
	} else {
		m.server.feed(ts, data, missing)
	}
	m.t.sess.Synced = !m.client.lost && !m.server.lost
}

// myProbeNeed is how many first bytes tell how a connection starts: the
// first packet, up to 40 bytes.
func myProbeNeed(b []byte) int {
	if len(b) < myHeaderLen {
		return myHeaderLen
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	return min(myHeaderLen+n, 40)
}

// myGreeting reports whether b starts with a server greeting (protocol 10).
func myGreeting(b []byte) bool {
	if len(b) < 5 {
		return false
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	if b[3] != 0 || b[4] != 10 || n < 20 || n > myMaxHandshake {
		return false
	}
	// A printable version string ending in NUL.
	for i := 5; i < len(b) && i < 4+n; i++ {
		if b[i] == 0 {
			return i > 5
		}
		if b[i] < 0x20 || b[i] > 0x7e {
			return false
		}
	}
	return false
}

// myHandshakeResponse reports whether b starts with a HandshakeResponse41 or
// SSL request (sequence 1, or 2 after TLS).
func myHandshakeResponse(b []byte) bool {
	if len(b) < 4+32 {
		return false
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	if (b[3] != 1 && b[3] != 2) || n < 32 || n > myMaxHandshake {
		return false
	}
	caps := binary.LittleEndian.Uint32(b[4:])
	if caps&myClientProtocol41 == 0 {
		return false
	}
	// Filler, but for MariaDB's extended capabilities in the last four.
	for _, c := range b[4+9 : 4+28] {
		if c != 0 {
			return false
		}
	}
	return true
}

func (m *mysql) headerLen(Direction) int { return myHeaderLen }

func (m *mysql) bodyLen(dir Direction, hdr []byte) (int, int, bool) {
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if dir == ServerToClient && m.state == rsRows && !m.cont[dir] {
		return n, min(n, myRowKeep), true
	}
	return n, min(n, m.t.cfg.MaxMessage), true
}

func (m *mysql) message(dir Direction, start, end time.Time, hdr, body []byte, n int, complete bool) {
	seq := hdr[3]
	cont := m.cont[dir]
	m.cont[dir] = n == myMaxPacket
	if dir == ClientToServer {
		if cont {
			if m.cmd != nil && len(m.cmd.parts) == 1 && len(m.cmd.parts[0]) < m.t.cfg.MaxMessage {
				m.cmd.parts[0] += string(body)
			}
			return
		}
		m.clientPacket(start, seq, body, complete)
		return
	}
	if m.gapped > 0 && m.state == rsRows && m.cmd != nil {
		// Packets in the gap: their number modulo 256 is in the sequence
		// ids, and exact when the gap was too short for 256 rows.
		missed := int(seq - m.lastSeq - 1)
		if m.gapped >= 256*(myHeaderLen+max(1, m.ncols)) {
			// Room for 256 rows or more: add the multiple of 256 that the
			// average row size seen so far suggests.
			m.cmd.partial = true
			if m.cmd.rowsSeen > 0 && m.cmd.rowBytes > 0 {
				est := float64(m.gapped) / (float64(m.cmd.rowBytes) / float64(m.cmd.rowsSeen))
				if k := math.Round((est - float64(missed)) / 256); k > 0 {
					missed += 256 * int(k)
				}
			}
		}
		m.cmd.rows += uint64(missed)
	}
	m.gapped = 0
	m.lastSeq = seq
	if cont {
		if m.cmd != nil {
			m.cmd.bytes += uint64(myHeaderLen + n)
		}
		return
	}
	m.serverPacket(end, seq, body, n, complete)
}

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

func (m *mysql) handshakeResponse(b []byte) {
	if len(b) < 32 {
		m.t.stats.ParseErrors++
		return
	}
	caps := binary.LittleEndian.Uint32(b)
	m.caps = caps
	if caps&1 == 0 { // not CLIENT_MYSQL: MariaDB extended capabilities
		m.mariaCaps = binary.LittleEndian.Uint32(b[28:])
	}
	if m.srvCaps != 0 {
		m.caps &= m.srvCaps
	}
	if caps&myClientSSL != 0 && len(b) == 32 {
		m.phase = myEncrypted
		m.t.sess.Encrypted = true
		return
	}
	if caps&myClientCompress != 0 && m.caps&myClientCompress != 0 {
		// Compressed packets are not followed.
		m.t.sess.GaveUp = true
		return
	}
	m.phase = myAuth
	user, rest, ok := cstring(b[32:])
	if !ok {
		return
	}
	m.t.sess.User = user
	switch {
	case caps&myClientPluginAuthLenenc != 0:
		n, k := lenenc(rest)
		if k == 0 || uint64(len(rest)-k) < n {
			return
		}
		rest = rest[k+int(n):]
	case caps&myClientSecureConn != 0:
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return
		}
		rest = rest[1+int(rest[0]):]
	default:
		_, rest, ok = cstring(rest)
		if !ok {
			return
		}
	}
	if caps&myClientConnectWithDB != 0 {
		if db, _, ok := cstring(rest); ok {
			m.t.sess.Database = db
		}
	}
}

func (m *mysql) serverPacket(ts time.Time, seq byte, body []byte, n int, complete bool) {
	switch m.phase {
	case myStart:
		if len(body) > 0 && body[0] == 10 {
			m.greeting(body)
		}
		return
	case myGreeted:
		return
	case myAuth:
		if len(body) > 0 && body[0] == 0x00 {
			m.phase = myCommand
		}
		return
	}
	c := m.cmd
	if c == nil {
		return
	}
	c.bytes += uint64(myHeaderLen + n)
	if len(body) == 0 {
		if m.state == rsRows && n > 0 {
			// A row whose bytes were all lost to a capture gap.
			c.rows++
			c.partial = true
		}
		return
	}
	switch m.state {
	case rsFirst:
		switch body[0] {
		case 0x00:
			affected, status := myOK(body)
			m.noteStatus(status)
			c.rows = affected
			m.finishResult(ts, status, true)
		case 0xff:
			m.errPacket(ts, body)
		case 0xfb:
			m.state = rsInfile
		default:
			nc, k := lenenc(body)
			if k == 0 {
				m.t.stats.ParseErrors++
				return
			}
			m.ncols, m.left = int(min(nc, 1<<16)), int(min(nc, 1<<16))
			c.columns = c.columns[:0]
			m.state = rsCols
			if c.cmd == myComStmtExecute && m.mariaCaps&mariaCacheMetadata != 0 && len(body) > k && body[k] == 0 {
				// Metadata as at prepare: rows follow at once.
				c.columns = append(c.columns, c.stmt.columns...)
				m.state = rsRows
			}
		}
	case rsCols:
		if body[0] == 0xff {
			m.errPacket(ts, body)
			return
		}
		if name, ok := myColumnName(body); ok && len(c.columns) < 1024 {
			c.columns = append(c.columns, name)
		}
		m.left--
		if m.left <= 0 {
			if m.deprecateEOF() {
				m.state = rsRows
			} else {
				m.state = rsColsEOF
			}
		}
	case rsColsEOF:
		m.state = rsRows
	case rsRows:
		if body[0] == 0xfe && (n < 9 || m.deprecateEOF() && n < myMaxPacket) {
			var status uint16
			if m.deprecateEOF() || n >= 7 && body[0] == 0x00 {
				_, status = myOK(body)
			} else if len(body) >= 5 {
				status = binary.LittleEndian.Uint16(body[3:])
			}
			m.noteStatus(status)
			m.finishResult(ts, status, false)
			return
		}
		if body[0] == 0xff && n < 0xffff {
			m.errPacket(ts, body)
			return
		}
		c.rows++
		c.rowBytes += uint64(myHeaderLen + n)
		c.rowsSeen++
		c.partial = c.partial || !complete
	case rsPrepare:
		switch body[0] {
		case 0x00:
			if len(body) < 9 {
				m.t.stats.ParseErrors++
				m.finishCmd(ts, "", "", "", false)
				return
			}
			id := binary.LittleEndian.Uint32(body[1:])
			ncols := int(binary.LittleEndian.Uint16(body[5:]))
			nparams := int(binary.LittleEndian.Uint16(body[7:]))
			if len(m.stmts) >= m.t.cfg.MaxPending {
				for k := range m.stmts {
					delete(m.stmts, k)
					break
				}
			}
			st := &myStmt{sql: c.prepare, nparams: nparams}
			m.stmts[id] = st
			m.prepared = st
			m.left = ncols + nparams
			m.skipCols = nparams
			if !m.deprecateEOF() {
				if ncols > 0 {
					m.left++
				}
				if nparams > 0 {
					m.left++
					m.skipCols++
				}
			}
			m.skipCols = m.left - m.skipCols // packets left when column definitions start
			// A prepare is not an execution: no record.
			m.cmd, m.state = nil, rsIdle
			if m.left > 0 {
				m.state = rsSkip
			}
		case 0xff:
			m.errPacket(ts, body)
		}
	case rsSkip:
		if m.prepared != nil && m.left <= m.skipCols && body[0] != 0xfe && len(m.prepared.columns) < 1024 {
			if name, ok := myColumnName(body); ok {
				m.prepared.columns = append(m.prepared.columns, name)
			}
		}
		m.left--
		if m.left <= 0 {
			m.state = rsIdle
		}
	case rsUntilEOF:
		if body[0] == 0xfe && n < 9 || body[0] == 0xff {
			m.cmd, m.state = nil, rsIdle
		}
	case rsSimple, rsInfile:
		switch body[0] {
		case 0x00:
			_, status := myOK(body)
			m.noteStatus(status)
			if c.initDB != "" {
				m.t.sess.Database = c.initDB
			}
			if c.parts != nil || m.state == rsInfile {
				affected, _ := myOK(body)
				c.rows = affected
				m.finishResult(ts, status, true)
				return
			}
			m.cmd, m.state = nil, rsIdle
		case 0xff:
			if c.parts != nil {
				m.errPacket(ts, body)
				return
			}
			m.cmd, m.state = nil, rsIdle
		}
	}
}

func (m *mysql) greeting(b []byte) {
	_, rest, ok := cstring(b[1:])
	if !ok || len(rest) < 4+8+1+2 {
		return
	}
	rest = rest[4+8+1:]
	caps := uint32(binary.LittleEndian.Uint16(rest))
	if len(rest) >= 2+1+2+2 {
		caps |= uint32(binary.LittleEndian.Uint16(rest[5:])) << 16
	}
	m.srvCaps = caps
	m.phase = myGreeted
}

func (m *mysql) noteStatus(status uint16) {
	m.status = status
}

// finishResult reports the current statement of the command and moves to the
// next result when the server says more follow.
func (m *mysql) finishResult(ts time.Time, status uint16, fromServer bool) {
	c := m.cmd
	more := status&myServerMoreResults != 0
	m.finishCmd(ts, "", "", "", fromServer)
	if more && c != nil {
		c.idx++
		c.start = ts
		c.rows, c.bytes, c.columns, c.partial = 0, 0, nil, false
		m.cmd, m.state = c, rsFirst
	}
}

func (m *mysql) errPacket(ts time.Time, b []byte) {
	code, state, msg := myErr(b)
	m.finishCmd(ts, code, state, msg, false)
}

// finishCmd reports the current statement of the command in progress and
// ends it.
func (m *mysql) finishCmd(ts time.Time, code, sqlstate, msg string, fromServer bool) {
	c := m.cmd
	m.cmd, m.state = nil, rsIdle
	if c == nil {
		return
	}
	sql := ""
	switch {
	case c.parts != nil:
		if c.idx < len(c.parts) {
			sql = c.parts[c.idx]
		}
	case c.stmt != nil:
		sql = c.stmt.sql
	case c.prepare != "":
		sql = c.prepare
	case c.cmd == myComStmtFetch:
	default:
		return
	}
	start := c.start
	if start.IsZero() {
		start = ts
	}
	rec := Record{Start: start, End: ts, Partial: c.partial || m.client.lost, RowsFromServer: fromServer}
	db := &rec.DB
	db.Engine = EngineMySQL
	db.User = m.t.sess.User
	db.Database = m.t.sess.Database
	r := m.t.cfg.Redactor
	if sql != "" {
		d := redact.MySQL
		if m.status&myServerNoBackslash != 0 {
			d = redact.MySQLNoBackslashEscapes
		}
		res := r.Redact(d, sql)
		for n, col := range res.Params {
			if n-1 < len(c.params) && c.hasVals[n-1] {
				r.AddIdentifier(&res, col, c.params[n-1])
			}
		}
		db.Statement, db.Fingerprint, db.Command = res.Statement, res.Fingerprint, res.Command
		db.Tables, db.Columns, db.Identifiers = res.Tables, res.Columns, res.Identifiers
		if res.Command == "USE" && code == "" && !res.Unparsable {
			if f := strings.Fields(sql); len(f) == 2 {
				m.t.sess.Database = strings.Trim(f[1], "`;")
			}
		}
	}
	db.Columns = mergeColumns(db.Columns, c.columns)
	db.Rows = c.rows
	db.Bytes = c.bytes
	db.DurationMS = math.Max(0, float64(ts.Sub(start).Microseconds())/1000)
	if code != "" {
		db.ErrorCode = code
		db.Error = safeError(r, sqlstate, msg)
	}
	m.t.emit(rec)
}

// myOK reads an OK (or 0xfe OK) packet's affected rows and status.
func myOK(b []byte) (affected uint64, status uint16) {
	if len(b) < 1 {
		return 0, 0
	}
	b = b[1:]
	affected, k := lenenc(b)
	if k == 0 {
		return 0, 0
	}
	b = b[k:]
	_, k = lenenc(b)
	if k == 0 {
		return affected, 0
	}
	b = b[k:]
	if len(b) >= 2 {
		status = binary.LittleEndian.Uint16(b)
	}
	return affected, status
}

// myErr reads an ERR packet.
func myErr(b []byte) (code, sqlstate, msg string) {
	if len(b) < 3 {
		return "", "", ""
	}
	code = strconv.Itoa(int(binary.LittleEndian.Uint16(b[1:])))
	b = b[3:]
	if len(b) >= 6 && b[0] == '#' {
		sqlstate = string(b[1:6])
		b = b[6:]
	}
	return code, sqlstate, string(b)
}

// myColumnName reads the name from a ColumnDefinition41.
func myColumnName(b []byte) (string, bool) {
	for i := 0; i < 4; i++ { // catalog, schema, table, org_table
		n, k := lenenc(b)
		if k == 0 || uint64(len(b)-k) < n {
			return "", false
		}
		b = b[k+int(n):]
	}
	n, k := lenenc(b)
	if k == 0 || uint64(len(b)-k) < n {
		return "", false
	}
	return string(b[k : k+int(n)]), true
}

// lenenc reads a length-encoded integer; k is its size, 0 when invalid.
func lenenc(b []byte) (v uint64, k int) {
	if len(b) == 0 {
		return 0, 0
	}
	switch c := b[0]; {
	case c < 0xfb:
		return uint64(c), 1
	case c == 0xfc && len(b) >= 3:
		return uint64(binary.LittleEndian.Uint16(b[1:])), 3
	case c == 0xfd && len(b) >= 4:
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, 4
	case c == 0xfe && len(b) >= 9:
		return binary.LittleEndian.Uint64(b[1:]), 9
	}
	return 0, 0
}

// myExecuteParams decodes COM_STMT_EXECUTE parameter values as text, for
// identifier hashing. arg starts at the statement id.
func myExecuteParams(st *myStmt, arg []byte) ([]string, []bool) {
	n := st.nparams
	if n == 0 || len(arg) < 9 {
		return nil, nil
	}
	b := arg[9:] // id, flags, iteration count
	nb := (n + 7) / 8
	if len(b) < nb+1 {
		return nil, nil
	}
	nulls := b[:nb]
	bound := b[nb]
	b = b[nb+1:]
	if bound == 1 {
		if len(b) < 2*n {
			return nil, nil
		}
		st.types = append(st.types[:0], b[:2*n]...)
		b = b[2*n:]
	}
	if len(st.types) != 2*n {
		return nil, nil
	}
	vals := make([]string, n)
	has := make([]bool, n)
	for i := 0; i < n; i++ {
		if nulls[i/8]&(1<<(i%8)) != 0 {
			continue
		}
		typ, unsigned := st.types[2*i], st.types[2*i+1]&0x80 != 0
		var v string
		size := 0
		switch typ {
		case 1: // tiny
			size = 1
			if len(b) >= 1 {
				if unsigned {
					v = strconv.FormatUint(uint64(b[0]), 10)
				} else {
					v = strconv.FormatInt(int64(int8(b[0])), 10)
				}
			}
		case 2, 13: // short, year
			size = 2
			if len(b) >= 2 {
				u := binary.LittleEndian.Uint16(b)
				if unsigned {
					v = strconv.FormatUint(uint64(u), 10)
				} else {
					v = strconv.FormatInt(int64(int16(u)), 10)
				}
			}
		case 3, 9: // long, int24
			size = 4
			if len(b) >= 4 {
				u := binary.LittleEndian.Uint32(b)
				if unsigned {
					v = strconv.FormatUint(uint64(u), 10)
				} else {
					v = strconv.FormatInt(int64(int32(u)), 10)
				}
			}
		case 8: // longlong
			size = 8
			if len(b) >= 8 {
				u := binary.LittleEndian.Uint64(b)
				if unsigned {
					v = strconv.FormatUint(u, 10)
				} else {
					v = strconv.FormatInt(int64(u), 10)
				}
			}
		case 4: // float
			size = 4
			if len(b) >= 4 {
				v = strconv.FormatFloat(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), 'g', -1, 32)
			}
		case 5: // double
			size = 8
			if len(b) >= 8 {
				v = strconv.FormatFloat(math.Float64frombits(binary.LittleEndian.Uint64(b)), 'g', -1, 64)
			}
		case 6: // null
		case 7, 10, 11, 12: // timestamp, date, time, datetime: length byte
			if len(b) < 1 {
				return vals, has
			}
			size = 1 + int(b[0])
		default: // strings, blobs, decimals, json, enum, set, bit, geometry
			l, k := lenenc(b)
			if k == 0 || uint64(len(b)-k) < l {
				return vals, has
			}
			v = string(b[k : k+int(l)])
			size = k + int(l)
			if !utf8Text(v) {
				v = ""
			}
		}
		if size > len(b) {
			return vals, has
		}
		b = b[size:]
		if v != "" {
			vals[i], has[i] = v, true
		}
	}
	return vals, has
}

func utf8Text(s string) bool { return strings.ToValidUTF8(s, "") == s }

func (m *mysql) gap(dir Direction, n int) {
	if dir != ServerToClient {
		return
	}
	m.gapped += n
	if m.cmd != nil {
		m.cmd.bytes += uint64(n)
		if m.state != rsRows {
			m.cmd.partial = true
		}
	}
}

func (m *mysql) flush(ts time.Time) {
	if m.cmd != nil {
		m.cmd.partial = true
		m.finishCmd(ts, "", "", "", false)
	}
}

// resync finds a packet boundary in data. Client commands are sent whole, so
// the client side looks for a command packet (sequence 0) filling the capture.
// The server side looks for a run of packets with consecutive sequence ids
// to the end of the capture.
func (m *mysql) resync(dir Direction, data []byte) int {
	if m.phase != myCommand {
		return -1
	}
	if dir == ClientToServer {
		// Commands are written whole, a few at a time (a statement close
		// and the next query): a capture of whole sequence-0 commands.
		for b := data; ; {
			if len(b) < myHeaderLen+1 {
				return -1
			}
			n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
			if b[3] != 0 || n == 0 || !myKnownCommand(b[4]) || myHeaderLen+n > len(b) {
				return -1
			}
			b = b[myHeaderLen+n:]
			if len(b) == 0 {
				return 0
			}
		}
	}
	for i := 0; i+myHeaderLen < len(data); i++ {
		if m.serverChain(data[i:], i == 0) {
			return i
		}
	}
	return -1
}

func myKnownCommand(c byte) bool {
	switch c {
	case myComQuit, myComInitDB, myComQuery, myComFieldList, myComChangeUser, myComStmtPrepare,
		myComStmtExecute, myComStmtSend, myComStmtClose, myComStmtFetch, myComBulkExecute,
		0x0e, 0x1a, 0x1b, 0x1f, 0x09, 0x0d:
		return true
	}
	return false
}

func (m *mysql) serverChain(data []byte, atStart bool) bool {
	count := 0
	var prev byte
	for len(data) >= myHeaderLen {
		n := int(data[0]) | int(data[1])<<8 | int(data[2])<<16
		seq := data[3]
		if count > 0 && seq != prev+1 {
			return false
		}
		if n == 0 && m.state != rsRows {
			return false
		}
		prev = seq
		count++
		if count >= maxChain {
			return true
		}
		if myHeaderLen+n > len(data) {
			if n > maxRunPast {
				return false
			}
			return count >= 3 || atStart && count >= 2
		}
		data = data[myHeaderLen+n:]
	}
	if len(data) != 0 {
		// A header cut by the end of the capture.
		return count >= 3
	}
	return count >= 3 || atStart && count >= 1 && m.cmd != nil && prev == m.lastSeq+1
}

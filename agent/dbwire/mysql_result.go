package dbwire

import (
	"encoding/binary"
	"math"
	"time"
)

// myServerCursorExists is the status flag of an execute's answer that
// opened a cursor.
const myServerCursorExists = 0x0040

// myState is where the server's answer to the command in progress stands.
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
			m.startCompression()
		}
		return
	}
	c := m.cmd
	if c == nil {
		if m.state == rsSkip && len(body) > 0 {
			// A prepare's metadata: the prepare itself made no record.
			m.skipPacket(body)
		}
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
		if body[0] == 0xfe && n < 9 && len(body) >= 5 && binary.LittleEndian.Uint16(body[3:])&myServerCursorExists != 0 {
			// An execute that opened a cursor: its rows come with
			// COM_STMT_FETCH.
			status := binary.LittleEndian.Uint16(body[3:])
			m.noteStatus(status)
			m.finishResult(ts, status, false)
			return
		}
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
				evictOne(m.stmts, &m.t.stats.Evicted)
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
		m.skipPacket(body)
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

// skipPacket passes over one packet of a prepare's metadata, keeping the
// names of the statement's result columns.
func (m *mysql) skipPacket(body []byte) {
	if m.prepared != nil && m.left <= m.skipCols && body[0] != 0xfe && len(m.prepared.columns) < 1024 {
		if name, ok := myColumnName(body); ok {
			m.prepared.columns = append(m.prepared.columns, name)
		}
	}
	m.left--
	if m.left <= 0 {
		m.state = rsIdle
	}
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

// myColumnName reads a column's name from a ColumnDefinition41: a table's
// column (org_name set) marked with tableMark, its org_table and org_name,
// since an alias may be a string literal (SELECT email AS 'x'); a column of
// no table (an expression, named after its text) by its name, marked with
// exprMark.
func myColumnName(b []byte) (string, bool) {
	var f [6][]byte // catalog, schema, table, org_table, name, org_name
	for i := range f {
		n, k := lenenc(b)
		if k == 0 || uint64(len(b)-k) < n {
			if i == 5 {
				break // cut short: take it for an expression
			}
			return "", false
		}
		f[i] = b[k : k+int(n)]
		b = b[k+int(n):]
	}
	if len(f[5]) == 0 {
		return exprMark + string(f[4]), true
	}
	return tableMark + string(f[3]) + tableMark + string(f[5]), true
}

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

// countGapRows adds to the result the rows lost in a capture gap before the
// packet with sequence id seq. Their number modulo 256 is in the sequence
// ids, exact when the gap was too short for 256 rows; otherwise the multiple
// of 256 that the average row size seen so far suggests is added.
func (m *mysql) countGapRows(seq byte) {
	missed := int(seq - m.lastSeq - 1)
	if m.gapped >= 256*(myHeaderLen+max(1, m.ncols)) {
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

package dbwire

import (
	"bytes"
	"encoding/binary"
	"time"
)

// current returns the statement collecting a response, creating one for a
// response whose request was not seen.
func (p *postgres) current(ts time.Time) *pgExec {
	op := p.head()
	if op == nil {
		op = &pgOp{kind: 'E', start: ts}
		p.ops = append(p.ops, op)
	}
	switch op.kind {
	case 'Q':
		if op.cur == nil {
			sql := ""
			if op.idx < len(op.parts) {
				sql = op.parts[op.idx]
			}
			op.exec = pgExec{start: op.start, sql: sql}
			op.cur = &op.exec
		}
		return op.cur
	case 'E':
		if op.cur == nil {
			op.exec = pgExec{start: op.start}
			op.cur = &op.exec
		}
		return op.cur
	}
	return nil
}

func (p *postgres) serverMessage(ts time.Time, typ byte, body []byte, size int, complete bool) {
	op := p.head()
	switch typ {
	case 'R', 'S', 'K', 'N', 'A', 'v', 'V', 'c':
		return
	case '1', '2', '3', 'n':
		// ParseComplete, BindComplete, CloseComplete, NoData: the request
		// they answer is done.
		if op != nil && op.kind != 'Q' && op.kind != 'E' && op.kind != 'S' {
			p.pop()
		}
		return
	case 't':
		if op != nil && op.kind == 'D' && op.stmt != nil {
			op.stmt.oids = pgParamOIDs(body)
		}
		return
	case 'T':
		cols := pgColumns(body)
		p.ncols = len(cols)
		if op != nil && op.kind == 'D' {
			if op.stmt != nil {
				op.stmt.columns = cols
			} else if op.portal != nil {
				op.portal.stmt.columns = cols
			}
			p.pop()
			return
		}
		if e := p.current(ts); e != nil {
			e.columns = cols
			e.bytes += uint64(size)
		}
		return
	case 'D', 'd':
		if e := p.current(ts); e != nil {
			e.rows++
			e.bytes += uint64(size)
			e.partial = e.partial || !complete
		}
		return
	case 'H', 'G', 'W':
		if e := p.current(ts); e != nil {
			e.bytes += uint64(size)
		}
		return
	case 'C', 's', 'I':
		e := p.current(ts)
		if e == nil {
			return
		}
		e.bytes += uint64(size)
		if typ == 'C' {
			var tag []byte // nil without a terminator, as cstring gives ""
			if i := bytes.IndexByte(body, 0); i >= 0 {
				tag = body[:i]
			}
			p.finish(ts, e, tag, "", "")
		} else if typ == 's' {
			p.finish(ts, e, nil, "", "")
		}
		p.advance(ts)
		return
	case 'E':
		code, msg := pgError(body)
		if op == nil || op.kind == 'S' {
			return // a startup or authentication failure, or a failed Sync
		}
		var e *pgExec
		switch op.kind {
		case 'Q', 'E':
			e = p.current(ts)
		case 'P':
			e = &pgExec{start: op.start, sql: op.stmt.sql}
		case 'B', 'D':
			if op.portal != nil {
				e = &pgExec{start: op.start, sql: op.portal.stmt.sql, portal: op.portal}
			} else if op.stmt != nil {
				e = &pgExec{start: op.start, sql: op.stmt.sql}
			}
		}
		if e != nil {
			e.bytes += uint64(size)
			p.finish(ts, e, nil, code, msg)
		}
		if op.kind == 'Q' {
			op.failed, op.cur = true, nil
			return
		}
		// The server skips the rest of the extended batch up to Sync.
		for len(p.ops) > 0 && p.ops[0].kind != 'S' {
			p.pop()
		}
		return
	case 'Z':
		// Close everything up to and including the Sync or Query answered.
		for len(p.ops) > 0 {
			k := p.ops[0].kind
			if (k == 'E' || k == 'Q') && p.ops[0].cur != nil && (p.ops[0].cur.rows > 0 || p.ops[0].cur.sql != "") {
				e := p.ops[0].cur
				e.partial = true
				p.finish(ts, e, nil, "", "")
			}
			p.pop()
			if k == 'S' || k == 'Q' {
				break
			}
		}
		return
	}
}

// advance moves past a finished statement: the next part of a simple query or
// the next request.
func (p *postgres) advance(ts time.Time) {
	op := p.head()
	if op == nil {
		return
	}
	switch op.kind {
	case 'Q':
		op.cur = nil
		op.idx++
		op.start = ts
	case 'E':
		p.pop()
	}
}

func pgParamOIDs(b []byte) []uint32 {
	if len(b) < 2 {
		return nil
	}
	n := int(binary.BigEndian.Uint16(b))
	var oids []uint32
	for i := 0; i < n && 2+4*i+4 <= len(b); i++ {
		oids = append(oids, binary.BigEndian.Uint32(b[2+4*i:]))
	}
	return oids
}

// pgColumns reads the column names of a RowDescription; a column of no
// table (table OID 0: an expression) is marked with exprMark.
func pgColumns(b []byte) []string {
	if len(b) < 2 {
		return nil
	}
	n := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	cols := make([]string, 0, min(n, 1024))
	for i := 0; i < n; i++ {
		name, rest, ok := cstring(b)
		if !ok || len(rest) < 18 {
			break
		}
		if binary.BigEndian.Uint32(rest) == 0 {
			name = exprMark + name
		}
		cols = append(cols, name)
		b = rest[18:]
	}
	return cols
}

func (p *postgres) gap(dir Direction, n int) {
	if dir != ServerToClient || p.phase != pgNormal {
		return
	}
	if op := p.head(); op != nil && (op.kind == 'Q' || op.kind == 'E') {
		if e := p.current(time.Time{}); e != nil {
			e.partial = true
			e.bytes += uint64(n)
		}
	}
}

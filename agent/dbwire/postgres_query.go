package dbwire

import (
	"bytes"
	"encoding/binary"
	"strings"
	"time"

	"github.com/vigilhq/vigil/agent/redact"
)

func (p *postgres) push(op *pgOp) {
	op.chunk = p.chunk
	if p.server.lost && len(p.ops) > 0 && p.ops[0].chunk < p.chunk && op.kind != 'S' {
		// The responses to requests sent in earlier captures were not (all)
		// seen. Clients wait for ReadyForQuery before the next request
		// (pipelining aside), so those are over: report what was seen.
		p.flushBefore(op.start, p.chunk)
	}
	if len(p.ops) >= p.t.cfg.MaxPending {
		// The server is not answering (or we missed its answers): forget the
		// oldest request rather than grow.
		p.ops = p.ops[1:]
		p.t.stats.ParseErrors++
	}
	p.ops = append(p.ops, op)
}

func (p *postgres) clientMessage(ts time.Time, typ byte, body []byte, complete bool) {
	switch typ {
	case 'Q':
		sql, _, _ := cstring(body)
		if !complete || !bytes.Contains(body, []byte{0}) {
			sql = string(bytes.TrimRight(body, "\x00"))
		}
		d := redact.Postgres
		p.push(&pgOp{kind: 'Q', start: ts, parts: redact.Split(d, sql)})
	case 'P':
		name, rest, ok := cstring(body)
		if !ok {
			p.t.stats.ParseErrors++
			return
		}
		sql, rest, ok := cstring(rest)
		if !ok {
			sql = string(rest) // cut short: keep the prefix
		}
		st := &pgStmt{sql: sql}
		if ok && len(rest) >= 2 {
			np := int(binary.BigEndian.Uint16(rest))
			for i := 0; i < np && 2+4*i+4 <= len(rest); i++ {
				st.oids = append(st.oids, binary.BigEndian.Uint32(rest[2+4*i:]))
			}
		}
		if _, known := p.stmts[name]; name != "" && !known && len(p.stmts) >= p.t.cfg.MaxPending {
			evictOne(p.stmts, &p.t.stats.Evicted)
		}
		p.stmts[name] = st
		p.push(&pgOp{kind: 'P', start: ts, stmt: st})
	case 'B':
		portal, rest, ok1 := cstring(body)
		stmt, rest, ok2 := cstring(rest)
		if !ok1 || !ok2 {
			p.t.stats.ParseErrors++
			return
		}
		st := p.stmts[stmt]
		if st == nil {
			st = &pgStmt{} // prepared before the tracker started
		}
		pt := &pgPortal{stmt: st}
		pt.formats, pt.params = pgBindValues(rest)
		if _, known := p.portals[portal]; portal != "" && !known && len(p.portals) >= p.t.cfg.MaxPending {
			evictOne(p.portals, &p.t.stats.Evicted)
		}
		p.portals[portal] = pt
		p.push(&pgOp{kind: 'B', start: ts, portal: pt})
	case 'E':
		portal, _, ok := cstring(body)
		if !ok {
			p.t.stats.ParseErrors++
			return
		}
		pt := p.portals[portal]
		if pt == nil {
			pt = &pgPortal{stmt: &pgStmt{}}
		}
		op := &pgOp{kind: 'E', start: ts, portal: pt, exec: pgExec{start: ts, sql: pt.stmt.sql, portal: pt}}
		op.cur = &op.exec
		p.push(op)
	case 'D':
		if len(body) < 2 {
			return
		}
		name, _, _ := cstring(body[1:])
		op := &pgOp{kind: 'D', start: ts}
		if body[0] == 'S' {
			op.stmt = p.stmts[name]
		} else {
			op.portal = p.portals[name]
		}
		p.push(op)
	case 'C':
		if len(body) >= 2 {
			name, _, _ := cstring(body[1:])
			if body[0] == 'S' {
				delete(p.stmts, name)
			} else {
				delete(p.portals, name)
			}
		}
		p.push(&pgOp{kind: 'C', start: ts})
	case 'S':
		p.push(&pgOp{kind: 'S', start: ts})
	case 'X':
		p.flush(ts)
	}
}

// pgBindValues reads a Bind message's parameter formats and values.
func pgBindValues(b []byte) ([]int16, [][]byte) {
	if len(b) < 2 {
		return nil, nil
	}
	nf := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if len(b) < 2*nf {
		return nil, nil
	}
	formats := make([]int16, nf)
	for i := range formats {
		formats[i] = int16(binary.BigEndian.Uint16(b[2*i:]))
	}
	b = b[2*nf:]
	if len(b) < 2 {
		return formats, nil
	}
	np := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	var params [][]byte
	for i := 0; i < np && len(b) >= 4; i++ {
		l := int32(binary.BigEndian.Uint32(b))
		b = b[4:]
		if l < 0 {
			params = append(params, nil)
			continue
		}
		if int(l) > len(b) {
			break // cut short
		}
		params = append(params, b[:l:l])
		b = b[l:]
	}
	// Copy: b is the reader's buffer.
	for i, v := range params {
		if v != nil {
			params[i] = append([]byte{}, v...)
		}
	}
	return formats, params
}

// head returns the oldest request awaiting a response, or nil.
func (p *postgres) head() *pgOp {
	if len(p.ops) == 0 {
		return nil
	}
	return p.ops[0]
}

func (p *postgres) pop() {
	if len(p.ops) > 0 {
		// Shift rather than reslice, so the queue keeps its array instead
		// of growing a new one every few requests.
		n := copy(p.ops, p.ops[1:])
		p.ops[n] = nil
		p.ops = p.ops[:n]
	}
}

// flush reports requests left without an answer.
func (p *postgres) flush(ts time.Time) { p.flushBefore(ts, ^uint64(0)) }

// flushBefore reports and forgets requests from client captures before
// chunk.
func (p *postgres) flushBefore(ts time.Time, chunk uint64) {
	keep := p.ops[:0]
	for _, op := range p.ops {
		if op.chunk >= chunk {
			keep = append(keep, op)
			continue
		}
		if op.kind == 'Q' && op.cur == nil && !op.failed && op.idx < len(op.parts) && strings.TrimSpace(op.parts[op.idx]) != "" {
			op.exec = pgExec{start: op.start, sql: op.parts[op.idx]}
			op.cur = &op.exec
		}
		if op.cur != nil && (op.cur.rows > 0 || op.cur.sql != "") {
			op.cur.partial = true
			// ts is when the next request's first byte came, which can be
			// before a part of a simple query that started in a later
			// capture: it ended when it started, not before.
			end := ts
			if end.Before(op.cur.start) {
				end = op.cur.start
			}
			p.finish(end, op.cur, nil, "", "")
		}
	}
	clear(p.ops[len(keep):])
	p.ops = keep
}

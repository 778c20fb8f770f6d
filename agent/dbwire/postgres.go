package dbwire

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/agent/redact"
)

// PostgreSQL protocol codes in the startup packet.
const (
	pgProtocol3   = 196608
	pgSSLRequest  = 80877103
	pgGSSENCReq   = 80877104
	pgCancelReq   = 80877102
	pgMaxStartup  = 10000
	pgMaxMessage  = 1 << 30
	pgHeaderLen   = 5
	pgStartupHdr  = 4
	pgMaxTagLen   = 256
	pgMaxErrorLen = 1 << 16
	// maxRunPast bounds the length of a message that runs past the capture
	// a resync found it in.
	maxRunPast = 1 << 20
	// maxChain is how many well-formed messages in a row are enough to
	// trust a boundary without reading to the end of the capture.
	maxChain = 32
)

type pgPhase uint8

const (
	pgStart     pgPhase = iota // nothing seen yet
	pgStartup                  // expecting a startup packet from the client
	pgAwaitTLS                 // SSLRequest or GSSENCRequest sent: one byte answer due
	pgNormal                   // typed messages both ways
	pgEncrypted                // TLS or GSS: nothing more to read
)

// pgStmt is a prepared statement (Parse).
type pgStmt struct {
	sql     string
	oids    []uint32
	columns []string
}

// pgPortal is a bound statement (Bind).
type pgPortal struct {
	stmt    *pgStmt
	formats []int16
	params  [][]byte // nil entry is NULL
}

// pgOp is a request whose response is still due, in order.
type pgOp struct {
	kind   byte // Q simple query, P parse, B bind, E execute, D describe, C close, S sync
	start  time.Time
	parts  []string // Q: the statements of the query string
	idx    int      // Q: current statement
	failed bool     // Q: an error ended it
	cur    *pgExec  // Q or E: the statement in progress
	exec   pgExec   // what cur points to, allocated with the request
	stmt   *pgStmt  // P, D (statement)
	portal *pgPortal
	chunk  uint64 // client capture it came in
}

// pgExec accumulates one statement's response.
type pgExec struct {
	start   time.Time
	sql     string
	portal  *pgPortal
	rows    uint64
	bytes   uint64
	columns []string
	partial bool
}

type postgres struct {
	t       *Tracker
	client  reader
	server  reader
	phase   pgPhase
	stmts   map[string]*pgStmt
	portals map[string]*pgPortal
	ops     []*pgOp
	// ncols is the column count of the last RowDescription (-1: none yet).
	ncols int
	// probe holds the first client bytes until there are enough to tell a
	// startup packet.
	probe []byte
	chunk uint64 // client captures seen
}

func newPostgres(t *Tracker) *postgres {
	p := &postgres{t: t, stmts: map[string]*pgStmt{}, portals: map[string]*pgPortal{}, ncols: -1}
	p.client = reader{dir: ClientToServer, t: t, f: p}
	p.server = reader{dir: ServerToClient, t: t, f: p}
	return p
}

func (p *postgres) feed(dir Direction, ts time.Time, data []byte, missing int) {
	if p.phase == pgStart && len(p.probe) > 0 && dir != ClientToServer {
		// The server spoke before the client's first bytes were enough to
		// tell: decide on what there is.
		pr := p.probe
		p.probe = nil
		p.feedStart(ClientToServer, ts, pr, 0)
	}
	if p.phase == pgStart && dir == ClientToServer && missing == 0 && len(p.probe)+len(data) < 8 {
		// Too little to tell a startup packet: wait for more.
		p.probe = append(p.probe, data...)
		return
	}
	if len(p.probe) > 0 {
		data = append(p.probe, data...)
		p.probe = nil
	}
	p.feedStart(dir, ts, data, missing)
}

func (p *postgres) feedStart(dir Direction, ts time.Time, data []byte, missing int) {
	if p.phase == pgStart {
		if dir == ClientToServer && len(data) >= 8 && pgStartupPacket(data) {
			p.phase = pgStartup
		} else {
			// Started mid-connection: find boundaries in both directions.
			p.phase = pgNormal
			p.client.lost = true
			p.server.lost = true
		}
		p.t.sess.Synced = !p.client.lost
	}
	if dir == ClientToServer {
		p.chunk++
		p.client.feed(ts, data, missing)
	} else {
		p.server.feed(ts, data, missing)
	}
	p.t.sess.Synced = !p.client.lost && !p.server.lost
}

// pgStartupPacket reports whether b starts with a startup, SSL, GSS or cancel
// request.
func pgStartupPacket(b []byte) bool {
	n := binary.BigEndian.Uint32(b)
	code := binary.BigEndian.Uint32(b[4:])
	switch code {
	case pgSSLRequest, pgGSSENCReq:
		return n == 8
	case pgCancelReq:
		return n == 16
	case pgProtocol3:
		return n >= 8 && n <= pgMaxStartup
	}
	return false
}

func (p *postgres) headerLen(dir Direction) int {
	switch p.phase {
	case pgStartup:
		if dir == ClientToServer {
			return pgStartupHdr
		}
		return 0 // the server says nothing before the startup packet
	case pgAwaitTLS:
		if dir == ServerToClient {
			return 1
		}
		return 0
	}
	return pgHeaderLen
}

func (p *postgres) bodyLen(dir Direction, hdr []byte) (int, int, bool) {
	max := p.t.cfg.MaxMessage
	switch p.phase {
	case pgStartup:
		n := int(binary.BigEndian.Uint32(hdr))
		if n < 8 || n > pgMaxStartup {
			return 0, 0, false
		}
		return n - 4, n - 4, true
	case pgAwaitTLS:
		return 0, 0, hdr[0] == 'S' || hdr[0] == 'N' || hdr[0] == 'G'
	}
	n := int(binary.BigEndian.Uint32(hdr[1:]))
	if n < 4 || n > pgMaxMessage || !pgValidType(dir, hdr[0]) {
		return 0, 0, false
	}
	n -= 4
	switch hdr[0] {
	case 'D':
		if dir == ServerToClient {
			return n, min(n, 2), true // column count, for resync checks
		}
	case 'd':
		return n, 0, true
	case 'Z':
		if n != 1 {
			return 0, 0, false
		}
	}
	return n, min(n, max), true
}

func pgValidType(dir Direction, c byte) bool {
	if dir == ClientToServer {
		return strings.IndexByte("QPBEDCSHXdcfFp", c) >= 0
	}
	return strings.IndexByte("RSKZTDCEN123nstIGHWdcAvV", c) >= 0
}

func (p *postgres) message(dir Direction, start, end time.Time, hdr, body []byte, n int, complete bool) {
	switch p.phase {
	case pgStartup:
		p.startup(body)
		return
	case pgAwaitTLS:
		switch hdr[0] {
		case 'S', 'G':
			p.phase = pgEncrypted
			p.t.sess.Encrypted = true
		default:
			p.phase = pgStartup
		}
		return
	}
	if dir == ClientToServer {
		p.clientMessage(start, hdr[0], body, complete)
	} else {
		p.serverMessage(end, hdr[0], body, pgHeaderLen+n, complete)
	}
}

func (p *postgres) startup(body []byte) {
	if len(body) < 4 {
		return
	}
	switch binary.BigEndian.Uint32(body) {
	case pgSSLRequest, pgGSSENCReq:
		p.phase = pgAwaitTLS
		return
	case pgCancelReq:
		return
	case pgProtocol3:
	default:
		p.t.stats.ParseErrors++
		return
	}
	p.phase = pgNormal
	rest := body[4:]
	for len(rest) > 1 {
		k, r1, ok1 := cstring(rest)
		v, r2, ok2 := cstring(r1)
		if !ok1 || !ok2 {
			break
		}
		switch k {
		case "user":
			p.t.sess.User = v
		case "database":
			p.t.sess.Database = v
		}
		rest = r2
	}
	if p.t.sess.Database == "" {
		p.t.sess.Database = p.t.sess.User
	}
}

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
		if name != "" && len(p.stmts) >= p.t.cfg.MaxPending {
			for k := range p.stmts {
				delete(p.stmts, k)
				break
			}
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
		if portal != "" && len(p.portals) >= p.t.cfg.MaxPending {
			for k := range p.portals {
				delete(p.portals, k)
				break
			}
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

// pgColumns reads the column names of a RowDescription.
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
		cols = append(cols, name)
		b = rest[18:]
	}
	return cols
}

// pgError reads an ErrorResponse's SQLSTATE and message.
func pgError(b []byte) (code, msg string) {
	for len(b) > 1 {
		f := b[0]
		v, rest, ok := cstring(b[1:])
		if !ok {
			break
		}
		switch f {
		case 'C':
			code = v
		case 'M':
			msg = v
		}
		b = rest
	}
	return code, msg
}

// finish reports a statement. tag is the CommandComplete tag, code and msg
// the error.
func (p *postgres) finish(ts time.Time, e *pgExec, tag []byte, code, msg string) {
	start := e.start
	if start.IsZero() {
		start = ts
	}
	rec := Record{Start: start, End: ts, Partial: e.partial || p.client.lost}
	r := p.t.cfg.Redactor
	db := &rec.DB
	db.Engine = EnginePostgres
	db.User = p.t.sess.User
	db.Database = p.t.sess.Database
	if e.sql != "" {
		res := r.Redact(redact.Postgres, e.sql)
		if e.portal != nil {
			for n, col := range res.Params {
				if v, ok := pgParamText(e.portal, n-1); ok {
					r.AddIdentifier(&res, col, v)
				}
			}
		}
		db.Statement, db.Fingerprint, db.Command = res.Statement, res.Fingerprint, res.Command
		db.Tables, db.Columns, db.Identifiers = res.Tables, res.Columns, res.Identifiers
	}
	db.Columns = mergeColumns(db.Columns, e.columns)
	db.Rows = e.rows
	if len(tag) > 0 {
		first, last, nf := tagFields(tag)
		if db.Command == "" && nf > 0 {
			db.Command = string(first)
		}
		if nf >= 2 {
			if n, err := strconv.ParseUint(string(last), 10, 64); err == nil {
				db.Rows = n
				rec.RowsFromServer = true
			}
		}
	}
	db.Bytes = e.bytes
	db.DurationMS = float64(ts.Sub(start).Microseconds()) / 1000
	if db.DurationMS < 0 {
		db.DurationMS = 0
	}
	if code != "" || msg != "" {
		db.ErrorCode = code
		db.Error = safeError(r, pgConditionName(code), msg)
	}
	p.t.emit(rec)
}

// tagFields returns the first and last of strings.Fields(tag) and how many
// there are, without allocating.
func tagFields(tag []byte) (first, last []byte, n int) {
	for f := range bytes.FieldsSeq(tag) {
		if n == 0 {
			first = f
		}
		last = f
		n++
	}
	return first, last, n
}

// pgParamText returns bound parameter i as text for identifier hashing.
func pgParamText(pt *pgPortal, i int) (string, bool) {
	if i < 0 || i >= len(pt.params) || pt.params[i] == nil {
		return "", false
	}
	v := pt.params[i]
	format := int16(0)
	switch {
	case len(pt.formats) == 1:
		format = pt.formats[0]
	case i < len(pt.formats):
		format = pt.formats[i]
	}
	if format == 0 {
		return string(v), true
	}
	var oid uint32
	if i < len(pt.stmt.oids) {
		oid = pt.stmt.oids[i]
	}
	switch oid {
	case 20, 21, 23, 0: // int8, int2, int4, unspecified
		switch len(v) {
		case 2:
			return strconv.FormatInt(int64(int16(binary.BigEndian.Uint16(v))), 10), true
		case 4:
			return strconv.FormatInt(int64(int32(binary.BigEndian.Uint32(v))), 10), true
		case 8:
			return strconv.FormatInt(int64(binary.BigEndian.Uint64(v)), 10), true
		}
	case 25, 1043, 1042, 19: // text, varchar, bpchar, name: binary is the text
		return string(v), true
	case 2950: // uuid
		if len(v) == 16 {
			h := hex.EncodeToString(v)
			return fmt.Sprintf("%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:]), true
		}
	}
	return hex.EncodeToString(v), true
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
			p.finish(ts, op.cur, nil, "", "")
		}
	}
	clear(p.ops[len(keep):])
	p.ops = keep
}

// resync finds where a chain of plausible messages starts in data.
func (p *postgres) resync(dir Direction, data []byte) int {
	if p.phase != pgNormal {
		return -1
	}
	for i := 0; i+pgHeaderLen <= len(data); i++ {
		if pgValidType(dir, data[i]) && p.chain(dir, data[i:], i == 0) {
			return i
		}
	}
	return -1
}

// chain reports whether data is a run of well-formed messages up to its end
// (the last may run past it), with at least one whose content could be
// checked, or, at the start of a capture, whole messages up to its end exactly
// (a false header's length would otherwise swallow the stream).
func (p *postgres) chain(dir Direction, data []byte, atStart bool) bool {
	strong, count, past := false, 0, false
	for len(data) > 0 {
		if len(data) < pgHeaderLen {
			return strong
		}
		typ := data[0]
		n := int(binary.BigEndian.Uint32(data[1:]))
		if !pgValidType(dir, typ) || n < 4 || n > pgMaxMessage {
			return false
		}
		body := data[pgHeaderLen:min(len(data), 1+n)]
		full := len(body) == n-4
		if !full && n > maxRunPast {
			// A false header tends to claim a huge length that would swallow
			// the stream; a real message this long is left for a later
			// capture to resync on.
			return false
		}
		ok, checked := pgPlausible(dir, typ, body, full, p.ncols)
		if !ok {
			return false
		}
		strong = strong || checked
		count++
		if count >= maxChain && strong {
			return true
		}
		if !full {
			past = true
			break
		}
		data = data[1+n:]
	}
	return strong || atStart && count > 0 && !past
}

// pgPlausible checks a message body; checked says the content was verified
// (not just the type and length).
func pgPlausible(dir Direction, typ byte, body []byte, full bool, ncols int) (ok, checked bool) {
	text := func(b []byte) bool {
		for _, c := range b {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
		}
		return true
	}
	if dir == ServerToClient {
		switch typ {
		case 'Z':
			return full && len(body) == 1 && (body[0] == 'I' || body[0] == 'T' || body[0] == 'E'), true
		case '1', '2', '3', 'n', 's', 'I':
			return full && len(body) == 0, true
		case 'C':
			if !full || len(body) < 2 || len(body) > pgMaxTagLen || body[len(body)-1] != 0 {
				return false, false
			}
			return text(body[:len(body)-1]) && body[0] >= 'A' && body[0] <= 'Z', true
		case 'D':
			if len(body) < 2 {
				return !full, false
			}
			nc := int(binary.BigEndian.Uint16(body))
			if ncols >= 0 {
				return nc == ncols, true
			}
			return true, false
		case 'E', 'N':
			if len(body) < 1 {
				return !full, false
			}
			return body[0] == 'S' || body[0] == 'V' || body[0] == 'C', full
		}
		return true, false
	}
	switch typ {
	case 'S', 'H', 'X', 'c':
		return full && len(body) == 0, true
	case 'Q':
		if full {
			return len(body) > 0 && body[len(body)-1] == 0 && text(body[:len(body)-1]), true
		}
		return text(body), len(body) >= 8
	case 'P':
		if !full {
			return true, false
		}
		_, rest, ok1 := cstring(body)
		q, rest, ok2 := cstring(rest)
		if !ok1 || !ok2 || len(rest) < 2 || !text([]byte(q)) {
			return false, false
		}
		return len(rest) == 2+4*int(binary.BigEndian.Uint16(rest)), true
	case 'E':
		if !full {
			return true, false
		}
		_, rest, ok := cstring(body)
		return ok && len(rest) == 4, true
	case 'D', 'C':
		if !full {
			return true, false
		}
		return len(body) >= 2 && (body[0] == 'S' || body[0] == 'P') && bytes.IndexByte(body[1:], 0) == len(body)-2, true
	}
	return true, false
}

// cstring reads a NUL-terminated string.
func cstring(b []byte) (string, []byte, bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", b, false
	}
	return string(b[:i]), b[i+1:], true
}

func mergeColumns(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	out := make([]string, 0, len(a)+len(b))
	var seen map[string]bool // only for long lists: a scan is cheaper
	add := func(s string) {
		if s == "" || s == "?column?" {
			return
		}
		if len(a)+len(b) > 16 {
			if seen == nil {
				seen = make(map[string]bool, len(a)+len(b))
			}
			if seen[s] {
				return
			}
			seen[s] = true
		} else if slices.Contains(out, s) {
			return
		}
		out = append(out, s)
	}
	for _, s := range a {
		add(s)
	}
	for _, s := range b {
		add(s)
	}
	return out
}

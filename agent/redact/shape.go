package redact

import (
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"
)

// shape is what Redact reports about every statement of one shape (its
// tokens without literal text); see the package documentation.
type shape struct {
	command     string
	statement   string
	fingerprint string
	capped      bool // statement cut to MaxStatement
	tables      []string
	columns     []string
	cursor      string
	cursorOp    CursorOp
	params      []paramRef
	ids         []idRef
}

// paramRef is Result.Params[n] = column, in the order Redact sets them.
type paramRef struct {
	n      int
	column string
}

// idRef says the literal token at tok is compared with identifier column.
type idRef struct {
	column string
	tok    int
}

const (
	// maxShapes bounds the cache; when full an arbitrary entry goes.
	maxShapes = 2048
	// maxShapeKey keeps long statements (rarely repeated) out of it.
	maxShapeKey = 2048
)

// cache is a map of at most maxShapes entries, safe for concurrent use:
// the shape cache (by token key) and the pre-lex cache (by text key).
type cache[V any] struct {
	mu   sync.RWMutex
	m    map[string]V
	hits atomic.Uint64 // lookups answered
}

func newCache[V any]() *cache[V] { return &cache[V]{m: make(map[string]V)} }

func (c *cache[V]) get(key []byte) (V, bool) {
	c.mu.RLock()
	v, ok := c.m[string(key)]
	c.mu.RUnlock()
	if ok {
		c.hits.Add(1)
	}
	return v, ok
}

// put adds an entry; when the cache is full an arbitrary entry goes.
func (c *cache[V]) put(key []byte, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxShapes {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[string(key)] = v
}

// shapeKey encodes the shape of toks into s.key: every token field except
// the literal text, with lengths so that the encoding is unambiguous.
func (s *scratch) shapeKey(d Dialect, toks []token) []byte {
	k := append(s.key[:0], byte(d))
	for _, t := range toks {
		k = append(k, byte(t.kind))
		k = binary.AppendUvarint(k, uint64(t.typ))
		k = binary.AppendUvarint(k, uint64(t.param))
		k = binary.AppendUvarint(k, uint64(len(t.val)))
		k = append(k, t.val...)
	}
	s.key = k
	return k
}

// result is the Result of a statement of this shape whose tokens are toks.
func (sh *shape) result(r *Redactor, d Dialect, toks []token, truncated bool) Result {
	res := sh.base(truncated)
	r.applyRefs(&res, d, toks, sh.params, sh.ids)
	return res
}

// base is the Result of a statement of this shape without its Params and
// Identifiers.
func (sh *shape) base(truncated bool) Result {
	return Result{Command: sh.command, Statement: sh.statement, Fingerprint: sh.fingerprint,
		Truncated: truncated || sh.capped, Tables: cloneStrings(sh.tables), Columns: cloneStrings(sh.columns),
		Cursor: sh.cursor, CursorOp: sh.cursorOp}
}

// applyParams sets res.Params from params.
func applyParams(res *Result, params []paramRef) {
	for _, p := range params {
		if res.Params == nil {
			res.Params = map[int]string{}
		}
		res.Params[p.n] = p.column
	}
}

// applyRefs sets res.Params from params and adds to res.Identifiers the
// hash of each literal of toks that ids name, for a statement analysed now
// and one of a cached shape alike.
func (r *Redactor) applyRefs(res *Result, d Dialect, toks []token, params []paramRef, ids []idRef) {
	applyParams(res, params)
	for _, id := range ids {
		r.AddIdentifier(res, id.column, literalValue(d, toks[id.tok]))
	}
}

// newShape records what res and the identifier plan say about a shape,
// with strings of its own (not slices of the statement's text).
func newShape(res *Result, capped bool, params []paramRef, ids []idRef) *shape {
	sh := &shape{command: strings.Clone(res.Command), statement: res.Statement, fingerprint: res.Fingerprint,
		capped: capped, params: params, ids: ids, cursor: strings.Clone(res.Cursor), cursorOp: res.CursorOp}
	for _, t := range res.Tables {
		sh.tables = append(sh.tables, strings.Clone(t))
	}
	for _, c := range res.Columns {
		sh.columns = append(sh.columns, strings.Clone(c))
	}
	return sh
}

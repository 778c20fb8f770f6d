package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Chain entry ops.
const (
	OpInsert = "insert"
	OpUpdate = "update"
	OpWrite  = "write" // an upsert: insert or replace
	OpDelete = "delete"
	OpCarry  = "carry" // a live row's entry carried past a pruned segment
	OpAdopt  = "adopt" // a row stored before the store had a chain
)

// chainTable is a table whose rows enter the hash chain: key names a row
// (the chain entry binds it), cols are the other stored columns in the
// order they are hashed. Leaving the key out of the digest lets verify
// tell a row moved to another key from one edited.
type chainTable struct {
	name string
	key  []string
	cols []string
	// derived are columns that follow from cols (left out of the digest,
	// so rows chained before they existed still verify): verify derives
	// them again, and selectAllSQL reads them after cols.
	derived []string
}

var chainTables = []chainTable{
	{"events", []string{"n"}, []string{"id", "time", "received", "kind", "site", "host", "agent_id", "boot_id", "seq", "person", "body"}, measureCols},
	{"alerts", []string{"n"}, []string{"id", "time", "received", "rule", "severity", "sev", "scope", "site", "host", "agent_id", "person", "summary", "body"}, nil},
	{"alert_evidence", []string{"alert_id", "event_id"}, []string{"alert_id", "event_id"}, nil},
	{"loss", []string{"n"}, []string{"time", "site", "host", "agent_id", "boot_id", "reason", "sensor", "count", "from_seq", "to_seq", "confirmed"}, nil},
	{"triage", []string{"alert_id"}, []string{"status", "reason", "assignee", "actor", "at"}, nil},
	{"audit", []string{"n"}, []string{"at", "actor", "action", "target", "detail"}, nil},
}

func chainTableOf(name string) chainTable {
	for _, t := range chainTables {
		if t.name == name {
			return t
		}
	}
	panic("store: table " + name + " is not chained")
}

// selectSQL reads one row's columns by key; selectAllSQL reads every row
// with its key columns first.
func (t chainTable) selectSQL() string {
	w := make([]string, len(t.key))
	for i, k := range t.key {
		w[i] = k + " = ?"
	}
	return "SELECT " + strings.Join(t.cols, ", ") + " FROM " + t.name + " WHERE " + strings.Join(w, " AND ")
}

func (t chainTable) selectAllSQL() string {
	return "SELECT " + strings.Join(slices.Concat(t.key, t.cols, t.derived), ", ") + " FROM " + t.name +
		" ORDER BY " + strings.Join(t.key, ", ")
}

// withoutDerived is t for a store from before its derived columns.
func (t chainTable) withoutDerived() chainTable {
	t.derived = nil
	return t
}

// rowKey names a row in the chain: its key values, text quoted, joined by
// spaces, so that no two keys read the same.
func rowKey(vals ...any) string {
	var b strings.Builder
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch v := v.(type) {
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case string:
			b.WriteString(strconv.Quote(v))
		case []byte:
			b.WriteString(strconv.Quote(string(v)))
		default:
			fmt.Fprintf(&b, "%v", v)
		}
	}
	return b.String()
}

// appendValue writes one column's value with its type, so that changing a
// value's type or moving bytes between columns changes the encoding.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, 'n')
	case int64:
		return binary.BigEndian.AppendUint64(append(b, 'i'), uint64(v))
	case float64:
		return binary.BigEndian.AppendUint64(append(b, 'f'), math.Float64bits(v))
	case bool:
		if v {
			return binary.BigEndian.AppendUint64(append(b, 'i'), 1)
		}
		return binary.BigEndian.AppendUint64(append(b, 'i'), 0)
	case string:
		return append(binary.AppendUvarint(append(b, 't'), uint64(len(v))), v...)
	case []byte:
		return append(binary.AppendUvarint(append(b, 'b'), uint64(len(v))), v...)
	case time.Time:
		return binary.BigEndian.AppendUint64(append(b, 'i'), uint64(v.UnixMilli()))
	default:
		s := fmt.Sprint(v)
		return append(binary.AppendUvarint(append(b, '?'), uint64(len(s))), s...)
	}
}

// rowDigest is SHA-256 of a row's canonical bytes: the table name, then
// each column's name and typed value, length-prefixed.
func rowDigest(t chainTable, vals []any) [32]byte {
	size := 16 + len(t.name)
	for i, c := range t.cols {
		size += 24 + len(c)
		switch v := vals[i].(type) {
		case string:
			size += len(v)
		case []byte:
			size += len(v)
		}
	}
	b := make([]byte, 0, size)
	b = append(binary.AppendUvarint(b, uint64(len(t.name))), t.name...)
	for i, c := range t.cols {
		b = append(binary.AppendUvarint(b, uint64(len(c))), c...)
		b = appendValue(b, vals[i])
	}
	return sha256.Sum256(b)
}

// entryHash links an entry to the one before it: SHA-256 of the previous
// hash and the entry's seq, time, table, row, op and row digest.
func entryHash(prev []byte, seq, at int64, tbl, row, op string, digest []byte) [32]byte {
	h := sha256.New()
	b := make([]byte, 0, 128+len(row))
	b = append(b, prev...)
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = binary.BigEndian.AppendUint64(b, uint64(at))
	for _, s := range []string{tbl, row, op} {
		b = append(binary.AppendUvarint(b, uint64(len(s))), s...)
	}
	b = append(binary.AppendUvarint(b, uint64(len(digest))), digest...)
	h.Write(b)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

const (
	sqlChainHead = `SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1`
	sqlPutChain  = `INSERT INTO chain (seq, at, tbl, row, op, digest, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`
	sqlPutBatch  = `INSERT INTO chain (seq, at, tbl, row, op, digest, hash, rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
)

// chainer appends entries to the chain inside one transaction. The head
// is read once: transactions are serialised (BEGIN IMMEDIATE), so no
// other writer moves it meanwhile.
type chainer struct {
	s      *Store // nil while migrating: statements are then parsed per call
	tx     *sql.Tx
	ctx    context.Context
	bound  map[string]*sql.Stmt
	loaded bool
	seq    int64
	hash   []byte
	// batch holds the rows addStored chained that no entry holds yet.
	batch batchList
}

func newChainer(ctx context.Context, s *Store, tx *sql.Tx) *chainer {
	return &chainer{s: s, tx: tx, ctx: ctx, bound: map[string]*sql.Stmt{}}
}

func (c *chainer) stmt(query string) (*sql.Stmt, error) {
	if st, ok := c.bound[query]; ok {
		return st, nil
	}
	var st *sql.Stmt
	if c.s != nil && c.s.chainStmts[query] != nil {
		st = c.tx.StmtContext(c.ctx, c.s.chainStmts[query])
	} else {
		var err error
		if st, err = c.tx.PrepareContext(c.ctx, query); err != nil {
			return nil, err
		}
	}
	c.bound[query] = st
	return st, nil
}

func (c *chainer) head() error {
	if c.loaded {
		return nil
	}
	st, err := c.stmt(sqlChainHead)
	if err != nil {
		return fmt.Errorf("reading the chain head: %w", err)
	}
	err = st.QueryRowContext(c.ctx).Scan(&c.seq, &c.hash)
	if errors.Is(err, sql.ErrNoRows) {
		// An empty chain continues from its base, if a prune left one.
		var kind string
		err = c.tx.QueryRowContext(c.ctx, `SELECT seq, hash, kind FROM checkpoints WHERE kind = 'base' ORDER BY seq DESC LIMIT 1`).
			Scan(&c.seq, &c.hash, &kind)
		if errors.Is(err, sql.ErrNoRows) {
			c.seq, c.hash, err = 0, make([]byte, 32), nil
		}
	}
	if err != nil {
		return fmt.Errorf("reading the chain head: %w", err)
	}
	c.loaded = true
	return nil
}

// add chains the row of table tbl named by key as it is now stored (op
// delete: as gone).
func (c *chainer) add(tbl, op string, key ...any) error {
	t := chainTableOf(tbl)
	var digest []byte
	if op != OpDelete {
		st, err := c.stmt(t.selectSQL())
		if err != nil {
			return fmt.Errorf("chaining %s row %s: %w", tbl, rowKey(key...), err)
		}
		vals := make([]any, len(t.cols))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := st.QueryRowContext(c.ctx, key...).Scan(ptrs...); err != nil {
			return fmt.Errorf("chaining %s row %s: %w", tbl, rowKey(key...), err)
		}
		d := rowDigest(t, vals)
		digest = d[:]
	}
	return c.put(tbl, rowKey(key...), op, digest)
}

// addInserted chains a row just inserted, from the values written to it
// in the table's column order, sparing the read back: the caller passes
// the Go types the driver stores and reads back unchanged (int64, string,
// []byte), which verify's recomputation from the file checks. The row
// joins the batch entry flush writes, before any other entry.
func (c *chainer) addInserted(tbl string, vals []any, key ...any) error {
	if c.batch.n > 0 && c.batch.tbl != tbl {
		if err := c.flush(); err != nil {
			return err
		}
	}
	c.batch.tbl = tbl
	c.batch.add(rowKey(key...), rowDigest(chainTableOf(tbl), vals))
	return nil
}

// flush writes the batch entry of the rows addInserted gathered.
func (c *chainer) flush() error {
	if c.batch.n == 0 {
		return nil
	}
	l := c.batch
	c.batch = batchList{buf: l.buf[:0]}
	return c.write(l.tbl, l.row(), OpBatch, l.link[:], l.buf)
}

// put appends an entry with a known digest, after the batch entry of
// the rows chained before it.
func (c *chainer) put(tbl, row, op string, digest []byte) error {
	if err := c.flush(); err != nil {
		return err
	}
	return c.write(tbl, row, op, digest, nil)
}

// write appends an entry; rows is a batch entry's list, nil for others.
func (c *chainer) write(tbl, row, op string, digest, rows []byte) error {
	if err := c.head(); err != nil {
		return err
	}
	if digest == nil {
		digest = []byte{}
	}
	now := time.Now
	if c.s != nil {
		now = c.s.now
	}
	seq, at := c.seq+1, now().UnixMilli()
	h := entryHash(c.hash, seq, at, tbl, row, op, digest)
	query, args := sqlPutChain, []any{seq, at, tbl, row, op, digest, h[:]}
	if rows != nil {
		query, args = sqlPutBatch, append(args, rows)
	}
	st, err := c.stmt(query)
	if err != nil {
		return fmt.Errorf("chaining %s row %s: %w", tbl, row, err)
	}
	if _, err := st.ExecContext(c.ctx, args...); err != nil {
		return fmt.Errorf("chaining %s row %s: %w", tbl, row, err)
	}
	c.seq, c.hash = seq, h[:]
	return nil
}

// adopt chains every row of the chained tables that has no entry: the
// rows of a store made before the chain, once, as it is migrated. Entries
// are appended while the rows are read, so memory stays flat however big
// the store.
func adopt(ctx context.Context, tx *sql.Tx) error {
	c := newChainer(ctx, nil, tx)
	for _, t := range chainTables {
		if err := adoptTable(ctx, tx, c, t); err != nil {
			return fmt.Errorf("adopting %s into the chain: %w", t.name, err)
		}
	}
	return nil
}

func adoptTable(ctx context.Context, tx *sql.Tx, c *chainer, t chainTable) error {
	rows, err := tx.QueryContext(ctx, t.selectAllSQL())
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		key, vals, err := scanChainRow(rows, t)
		if err != nil {
			return err
		}
		d := rowDigest(t, vals)
		if err := c.put(t.name, key, OpAdopt, d[:]); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scanChainRow reads a row of selectAllSQL: its key and its columns, the
// derived ones after cols.
func scanChainRow(rows *sql.Rows, t chainTable) (string, []any, error) {
	vals := make([]any, len(t.key)+len(t.cols)+len(t.derived))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", nil, err
	}
	return rowKey(vals[:len(t.key)]...), vals[len(t.key):], nil
}

// ChainHead is the newest entry's seq and hash (the base's when the chain
// is empty after a prune; 0 and zeros for a new store).
func (s *Store) ChainHead(ctx context.Context) (seq int64, hash []byte, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("reading the chain head: %w", err)
	}
	defer tx.Rollback()
	c := newChainer(ctx, s, tx)
	if err := c.head(); err != nil {
		return 0, nil, err
	}
	return c.seq, c.hash, nil
}

package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"math"
	"os"
	"slices"
	"time"
)

// Finding kinds.
const (
	FindEdited    = "edited"    // a row's columns differ from what was chained
	FindDeleted   = "deleted"   // a chained row, or a run of chain entries, is gone
	FindInserted  = "inserted"  // a row no chain entry accounts for
	FindReordered = "reordered" // a row holds what was chained for another row
	FindChain     = "chain"     // an entry does not follow from the one before
	FindTruncated = "truncated" // a checkpoint covers entries the chain no longer has
	FindRewritten = "rewritten" // the chain differs from a checkpoint
	FindSignature = "signature" // a checkpoint's signature does not verify
)

// Finding is one thing verify found wrong. Seq is the chain seq it is at
// (math.MaxInt64 for a row no entry names).
type Finding struct {
	Kind   string `json:"kind"`
	Table  string `json:"table,omitempty"`
	Row    string `json:"row,omitempty"`
	Seq    int64  `json:"seq"`
	Detail string `json:"detail"`
}

func (f Finding) String() string {
	where := ""
	if f.Table != "" {
		where = fmt.Sprintf(" %s row %s", f.Table, f.Row)
	}
	if f.Seq != math.MaxInt64 {
		where += fmt.Sprintf(" (chain seq %d)", f.Seq)
	}
	return fmt.Sprintf("%s:%s: %s", f.Kind, where, f.Detail)
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	BaseSeq int64 `json:"base_seq"` // the chain starts after it (0: from the first write)
	HeadSeq int64 `json:"head_seq"`
	// Entries counts what the chain records of rows: an entry of one row
	// counts one, a batch entry one for each row it lists.
	Entries     int64     `json:"entries"`
	Rows        int64     `json:"rows"`
	Checkpoints int       `json:"checkpoints"`         // checked against the chain
	Signatures  bool      `json:"signatures_verified"` // a public key was given
	Findings    []Finding `json:"findings"`
}

// OK says whether the store verified.
func (r *VerifyReport) OK() bool { return len(r.Findings) == 0 }

type chainEntry struct {
	seq    int64
	op     string
	digest []byte
}

// Verify checks the store at path (a SQLite file or a postgres:// URL),
// opened read-only: that each chain entry
// follows from the one before, from the base a prune left; that each row of
// the chained tables has the digest its latest entry recorded, and each
// chained row is still there; and that the chain agrees with the stored
// checkpoints and the ones given (published elsewhere). With pub, every
// checkpoint's signature is checked too.
func Verify(ctx context.Context, path string, external []Checkpoint, pub ed25519.PublicKey) (*VerifyReport, error) {
	name := path
	if isPostgres(path) {
		name = redactDSN(path)
	} else if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("verifying store: %w", err)
	}
	db, d, err := openDB(path, true)
	if err != nil {
		return nil, fmt.Errorf("opening store %s read-only: %w", name, err)
	}
	defer db.Close()
	path = name
	// One connection: every read sees the same snapshot.
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, d.snapshot)
	if err != nil {
		return nil, fmt.Errorf("reading store %s: %w", path, err)
	}
	defer tx.Rollback()
	v, err := d.version(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("reading the schema version of %s: %w", path, err)
	}
	if v < chainVersion {
		return nil, fmt.Errorf("store %s has schema version %d, before the hash chain (%d): start vigil-collector on it once so that it chains its rows", path, v, chainVersion)
	}
	r := &VerifyReport{Signatures: pub != nil, Findings: []Finding{}}
	stored, err := queryCheckpoints(ctx, tx, "")
	if err != nil {
		return nil, fmt.Errorf("verifying store %s: %w", path, err)
	}
	all := append(stored, external...)
	base := Checkpoint{Hash: make([]byte, 32)}
	for _, c := range stored {
		if c.Kind == CheckpointBase && c.Seq >= base.Seq {
			base = c
		}
	}
	r.BaseSeq = base.Seq
	want := map[int64][]byte{}
	for _, c := range all {
		if c.Seq > base.Seq {
			want[c.Seq] = nil
		}
	}
	latest, err := r.verifyChain(ctx, tx, base, want, v >= batchVersion)
	if err != nil {
		return nil, fmt.Errorf("verifying store %s: %w", path, err)
	}
	for _, t := range chainTables {
		if v < measuresVersion {
			t = t.withoutDerived()
		}
		if err := r.verifyRows(ctx, tx, t, latest[t.name]); err != nil {
			return nil, fmt.Errorf("verifying store %s: %w", path, err)
		}
	}
	r.verifyCheckpoints(all, base, want, pub)
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	return r, nil
}

// verifyChain walks the chain from base and returns each chained row's
// latest entry, by table and row; it notes the hash at each seq of want.
func (r *VerifyReport) verifyChain(ctx context.Context, tx *sql.Tx, base Checkpoint, want map[int64][]byte, batches bool) (map[string]map[string]chainEntry, error) {
	latest := map[string]map[string]chainEntry{}
	for _, t := range chainTables {
		latest[t.name] = map[string]chainEntry{}
	}
	rows, err := tx.QueryContext(ctx, chainQuery(batches), base.Seq)
	if err != nil {
		return nil, fmt.Errorf("reading the chain: %w", err)
	}
	defer rows.Close()
	prev, expect := base.Hash, base.Seq+1
	r.HeadSeq = base.Seq
	for rows.Next() {
		var e chainEntry
		var at int64
		var tbl, row string
		var hash, list []byte
		if err := rows.Scan(&e.seq, &at, &tbl, &row, &e.op, &e.digest, &hash, &list); err != nil {
			return nil, fmt.Errorf("reading the chain: %w", err)
		}
		if e.op != OpBatch {
			r.Entries++
		}
		if e.seq != expect {
			r.add(Finding{Kind: FindDeleted, Seq: expect, Detail: fmt.Sprintf("chain entries %d to %d are missing: they and the records they chained were deleted", expect, e.seq-1)})
		} else if h := entryHash(prev, e.seq, at, tbl, row, e.op, e.digest); !bytes.Equal(h[:], hash) {
			r.add(Finding{Kind: FindChain, Table: tbl, Row: row, Seq: e.seq, Detail: fmt.Sprintf("the entry does not follow from seq %d: it, or the one before, was edited, inserted or moved", e.seq-1)})
		}
		if _, ok := want[e.seq]; ok {
			want[e.seq] = hash
		}
		m, ok := latest[tbl]
		switch {
		case !ok:
			r.add(Finding{Kind: FindChain, Table: tbl, Row: row, Seq: e.seq, Detail: "the entry names a table that is not chained"})
		case e.op == OpBatch:
			r.expandBatch(m, e, tbl, row, list)
		default:
			m[row] = e
		}
		// Carry on from the stored hash, so one change is one finding.
		prev, expect, r.HeadSeq = hash, e.seq+1, e.seq
	}
	return latest, rows.Err()
}

// chainQuery reads the chain from a seq on; a store from before batch
// entries has no rows column.
func chainQuery(batches bool) string {
	list := "NULL"
	if batches {
		list = "rows"
	}
	return `SELECT seq, at, tbl, row, op, digest, hash, ` + list + ` FROM chain WHERE seq > ? ORDER BY seq`
}

// expandBatch checks a batch entry's list of rows and records each row
// it lists as inserted by the entry, for verifyRows.
func (r *VerifyReport) expandBatch(latest map[string]chainEntry, e chainEntry, tbl, row string, list []byte) {
	listed, err := decodeBatch(list)
	if err != nil {
		r.add(Finding{Kind: FindChain, Table: tbl, Row: row, Seq: e.seq, Detail: fmt.Sprintf("the batch entry's list of rows was cut or edited: %v", err)})
	}
	bad, whole := checkBatch(listed, e.digest)
	if bad >= 0 {
		r.add(Finding{Kind: FindChain, Table: tbl, Row: listed[bad].key, Seq: e.seq,
			Detail: fmt.Sprintf("the row's place in the batch entry (rows %s) does not follow from the rows before it: its recorded digest was edited, or a row was inserted, removed or moved in the list", row)})
	} else if err == nil && !whole {
		r.add(Finding{Kind: FindChain, Table: tbl, Row: row, Seq: e.seq, Detail: "the batch entry's list of rows does not end in its digest: rows were added to or removed from its end"})
	}
	for _, lr := range listed {
		r.Entries++
		latest[lr.key] = chainEntry{seq: e.seq, op: OpInsert, digest: lr.digest[:]}
	}
}

// verifyRows checks every row of t against its latest chain entry.
func (r *VerifyReport) verifyRows(ctx context.Context, tx *sql.Tx, t chainTable, latest map[string]chainEntry) error {
	byDigest := make(map[string]string, len(latest))
	for row, e := range latest {
		if e.op != OpDelete {
			byDigest[string(e.digest)] = row
		}
	}
	rows, err := tx.QueryContext(ctx, t.selectAllSQL())
	if err != nil {
		return fmt.Errorf("reading %s: %w", t.name, err)
	}
	defer rows.Close()
	seen := make(map[string]bool, len(latest))
	for rows.Next() {
		key, vals, err := scanChainRow(rows, t)
		if err != nil {
			return fmt.Errorf("reading %s: %w", t.name, err)
		}
		r.Rows++
		seen[key] = true
		d := rowDigest(t, vals)
		e, ok := latest[key]
		switch {
		case !ok || e.op == OpDelete:
			detail := "no chain entry accounts for it: it was inserted outside the collector"
			seq := int64(math.MaxInt64)
			if ok {
				detail, seq = "the chain recorded it deleted, yet it is there: it was inserted again", e.seq
			}
			if other, moved := byDigest[string(d[:])]; moved && other != key {
				r.add(Finding{Kind: FindReordered, Table: t.name, Row: key, Seq: latest[other].seq,
					Detail: fmt.Sprintf("it holds what the chain recorded for row %s", other)})
				continue
			}
			r.add(Finding{Kind: FindInserted, Table: t.name, Row: key, Seq: seq, Detail: detail})
		case !bytes.Equal(d[:], e.digest):
			if other, moved := byDigest[string(d[:])]; moved && other != key {
				r.add(Finding{Kind: FindReordered, Table: t.name, Row: key, Seq: e.seq,
					Detail: fmt.Sprintf("it holds what the chain recorded for row %s (seq %d)", other, latest[other].seq)})
				continue
			}
			r.add(Finding{Kind: FindEdited, Table: t.name, Row: key, Seq: e.seq, Detail: "its stored columns differ from what the chain recorded"})
		case len(t.derived) > 0:
			if bad := measureMismatch(vals[len(t.cols)-1], vals[len(t.cols):]); bad != "" {
				r.add(Finding{Kind: FindEdited, Table: t.name, Row: key, Seq: e.seq, Detail: bad + ": it was edited"})
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", t.name, err)
	}
	for key, e := range latest {
		if !seen[key] && e.op != OpDelete {
			r.add(Finding{Kind: FindDeleted, Table: t.name, Row: key, Seq: e.seq, Detail: "the chain recorded it, but it is gone"})
		}
	}
	return nil
}

func (r *VerifyReport) verifyCheckpoints(all []Checkpoint, base Checkpoint, at map[int64][]byte, pub ed25519.PublicKey) {
	for _, c := range all {
		when := c.At.UTC().Format(time.RFC3339)
		if pub != nil {
			if err := c.Verify(pub); err != nil {
				r.add(Finding{Kind: FindSignature, Seq: c.Seq, Detail: fmt.Sprintf("%s checkpoint of %s: %v", c.Kind, when, err)})
				continue
			}
		}
		switch {
		case c.Seq > r.HeadSeq:
			r.add(Finding{Kind: FindTruncated, Seq: r.HeadSeq + 1,
				Detail: fmt.Sprintf("the chain ends at seq %d, but the %s checkpoint of %s covers seq %d: entries after %d were cut off", r.HeadSeq, c.Kind, when, c.Seq, r.HeadSeq)})
		case c.Seq < base.Seq:
			// Pruned: the base that replaced it was checked instead.
		case c.Seq == base.Seq:
			r.Checkpoints++
			if !bytes.Equal(c.Hash, base.Hash) {
				r.add(Finding{Kind: FindRewritten, Seq: c.Seq, Detail: fmt.Sprintf("the pruned chain's base differs from the %s checkpoint of %s", c.Kind, when)})
			}
		default:
			r.Checkpoints++
			if h := at[c.Seq]; h != nil && !bytes.Equal(h, c.Hash) {
				r.add(Finding{Kind: FindRewritten, Seq: c.Seq, Detail: fmt.Sprintf("the chain's hash at seq %d differs from the %s checkpoint of %s: the chain up to it was rewritten", c.Seq, c.Kind, when)})
			}
		}
	}
}

// maxFindings bounds a report: past the first few, more say little.
const maxFindings = 100

func (r *VerifyReport) add(f Finding) {
	if len(r.Findings) < maxFindings {
		r.Findings = append(r.Findings, f)
	}
}

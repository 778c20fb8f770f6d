package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Retention says how long each kind of record is kept.
type Retention struct {
	Events time.Duration // events not cited as evidence
	Alerts time.Duration // alerts, their evidence and loss records
}

// Prune deletes what retention no longer keeps: alerts (with their
// evidence links), events older than Events unless an alert still cites
// them, and loss records. The chain stays verifiable: its segment older
// than both cuts is cut too (pruneChain), and a deleted row whose latest
// entry is newer gets a delete entry.
func (s *Store) Prune(ctx context.Context, now time.Time, r Retention) (events, alerts int64, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("starting to prune: %w", err)
	}
	defer tx.Rollback()
	alertCut, eventCut := ms(now.Add(-r.Alerts)), ms(now.Add(-r.Events))
	deleted := map[string]map[string]bool{}
	del := func(what, tbl, query string, args ...any) (int64, error) {
		t := chainTableOf(tbl)
		rows, err := tx.QueryContext(ctx, query+` RETURNING `+strings.Join(t.key, ", "), args...)
		if err != nil {
			return 0, fmt.Errorf("pruning %s: %w", what, err)
		}
		defer rows.Close()
		keys := deleted[tbl]
		if keys == nil {
			keys = map[string]bool{}
			deleted[tbl] = keys
		}
		var n int64
		vals := make([]any, len(t.key))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return 0, fmt.Errorf("pruning %s: %w", what, err)
			}
			keys[rowKey(vals...)] = true
			n++
		}
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("pruning %s: %w", what, err)
		}
		return n, nil
	}
	if _, err = del("evidence", "alert_evidence", `DELETE FROM alert_evidence WHERE alert_id IN (SELECT id FROM alerts WHERE received < ?)`, alertCut); err != nil {
		return 0, 0, err
	}
	if _, err = del("triage", "triage", `DELETE FROM triage WHERE alert_id IN (SELECT id FROM alerts WHERE received < ?)`, alertCut); err != nil {
		return 0, 0, err
	}
	if alerts, err = del("alerts", "alerts", `DELETE FROM alerts WHERE received < ?`, alertCut); err != nil {
		return 0, 0, err
	}
	if events, err = del("events", "events", `DELETE FROM events WHERE received < ? AND id NOT IN (SELECT event_id FROM alert_evidence)`, eventCut); err != nil {
		return 0, 0, err
	}
	if _, err = del("loss", "loss", `DELETE FROM loss WHERE time < ?`, alertCut); err != nil {
		return 0, 0, err
	}
	if err := s.pruneChain(ctx, tx, deleted, max(alertCut, eventCut), now); err != nil {
		return 0, 0, err
	}
	if err := tx.Commit(); err != nil {
		return events, alerts, fmt.Errorf("committing prune: %w", err)
	}
	return events, alerts, nil
}

// pruneChain cuts the chain's segment of entries made before cut (in
// milliseconds; the later of the two retention cuts): rows that outlive it have their latest entry carried to
// the head, with the digest it recorded, so an edit made before the prune
// still shows; the segment's last hash is kept as a signed base
// checkpoint, where verify starts. Rows deleted whose latest entry is
// past the segment get a delete entry. A segment whose links do not hold
// is not cut: that would hide what changed in it.
func (s *Store) pruneChain(ctx context.Context, tx *sql.Tx, deleted map[string]map[string]bool, cut int64, now time.Time) error {
	c := newChainer(ctx, s, tx)
	if err := c.head(); err != nil {
		return err
	}
	var base Checkpoint
	base.Hash = make([]byte, 32)
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM checkpoints WHERE kind = ? ORDER BY seq DESC LIMIT 1`, CheckpointBase).
		Scan(&base.Seq, &base.Hash)
	if err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("pruning the chain: reading its base: %w", err)
	}
	// The segment ends before the first entry made at or after cut.
	var first sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MIN(seq) FROM chain WHERE at >= ?`, cut).Scan(&first); err != nil {
		return fmt.Errorf("pruning the chain: %w", err)
	}
	end := c.seq
	if first.Valid {
		end = first.Int64 - 1
	}
	end = max(end, base.Seq)

	// Rows whose latest entry lies past the segment.
	after := map[string]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT tbl, row FROM chain WHERE seq > ?`, end)
	if err != nil {
		return fmt.Errorf("pruning the chain: %w", err)
	}
	for rows.Next() {
		var tbl, row string
		if err := rows.Scan(&tbl, &row); err != nil {
			rows.Close()
			return fmt.Errorf("pruning the chain: %w", err)
		}
		after[tbl+"\x00"+row] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pruning the chain: %w", err)
	}
	for tbl, keys := range deleted {
		for key := range keys {
			if after[tbl+"\x00"+key] {
				if err := c.put(tbl, key, OpDelete, nil); err != nil {
					return err
				}
			}
		}
	}
	if end == base.Seq {
		return nil
	}

	// The segment: check its links, and find what outlives it.
	type live struct {
		tbl, row string
		digest   []byte
	}
	var carry []live
	index := map[string]int{}
	prev, expect := base.Hash, base.Seq+1
	rows, err = tx.QueryContext(ctx, `SELECT seq, at, tbl, row, op, digest, hash FROM chain WHERE seq > ? AND seq <= ? ORDER BY seq`, base.Seq, end)
	if err != nil {
		return fmt.Errorf("pruning the chain: %w", err)
	}
	for rows.Next() {
		var seq, at int64
		var tbl, row, op string
		var digest, hash []byte
		if err := rows.Scan(&seq, &at, &tbl, &row, &op, &digest, &hash); err != nil {
			rows.Close()
			return fmt.Errorf("pruning the chain: %w", err)
		}
		if h := entryHash(prev, seq, at, tbl, row, op, digest); seq != expect || string(h[:]) != string(hash) {
			rows.Close()
			return fmt.Errorf("pruning the chain: the entry at seq %d does not follow from the one before; not cutting a segment that fails verification (run vigil verify)", expect)
		}
		prev, expect = hash, seq+1
		k := tbl + "\x00" + row
		if after[k] || deleted[tbl][row] || op == OpDelete {
			if i, ok := index[k]; ok {
				carry[i].digest = nil
			}
			continue
		}
		if i, ok := index[k]; ok {
			carry[i].digest = digest
		} else {
			index[k] = len(carry)
			carry = append(carry, live{tbl, row, digest})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pruning the chain: %w", err)
	}
	for _, l := range carry {
		if l.digest == nil {
			continue
		}
		if err := c.put(l.tbl, l.row, OpCarry, l.digest); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM chain WHERE seq <= ?`, end); err != nil {
		return fmt.Errorf("pruning the chain: %w", err)
	}
	cp := Checkpoint{Seq: end, Hash: prev, At: now.UTC().Truncate(time.Millisecond), Kind: CheckpointBase}
	if s.sign != nil {
		cp.Sig = s.sign(cp.Message())
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (seq, hash, at, kind, sig) VALUES (?, ?, ?, ?, ?)`,
		cp.Seq, cp.Hash, ms(cp.At), cp.Kind, cp.Sig); err != nil {
		return fmt.Errorf("pruning the chain: storing its base: %w", err)
	}
	return nil
}

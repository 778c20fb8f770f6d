package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Retention says how long each kind of record is kept.
type Retention struct {
	Events time.Duration // events not cited as evidence
	Alerts time.Duration // alerts, their evidence, loss records and the audit log
}

// pruneAuditQuery drops audit records older than the alerts kept: an
// entry about an alert is never older than the alert, so the record of
// who read or triaged an alert lives at least as long as the alert.
const pruneAuditQuery = `DELETE FROM audit WHERE at < ?`

// Prune deletes what retention no longer keeps: alerts (with their
// evidence links), events older than Events unless an alert still cites
// them, loss records, and audit records older than Alerts. The chain stays verifiable (pruneChain). A row
// about to be pruned that differs from what the chain recorded stops the
// prune: deleting it would hide the change.
func (s *Store) Prune(ctx context.Context, now time.Time, r Retention) (events, alerts int64, err error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("starting to prune: %w", err)
	}
	defer tx.Rollback()
	alertCut, eventCut := ms(now.Add(-r.Alerts)), ms(now.Add(-r.Events))
	var deleted []prunedRow
	del := func(what, tbl, query string, args ...any) (int64, error) {
		t := chainTableOf(tbl).withoutDerived()
		rows, err := tx.QueryContext(ctx, query+` RETURNING `+strings.Join(t.key, ", ")+", "+strings.Join(t.cols, ", "), args...)
		if err != nil {
			return 0, fmt.Errorf("pruning %s: %w", what, err)
		}
		defer rows.Close()
		var n int64
		for rows.Next() {
			key, vals, err := scanChainRow(rows, t)
			if err != nil {
				return 0, fmt.Errorf("pruning %s: %w", what, err)
			}
			deleted = append(deleted, prunedRow{tbl, key, rowDigest(t, vals)})
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
	if _, err = del("the audit log", "audit", pruneAuditQuery, alertCut); err != nil {
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

// prunedRow is a row Prune deleted, with the digest of what it held.
type prunedRow struct {
	tbl, row string
	digest   [32]byte
}

// pruneChain cuts the chain's segment of entries made before cut (in
// milliseconds; the later of the two retention cuts): rows that outlive it
// have their latest entry carried to the head, with the digest it
// recorded, so an edit made before the prune still shows; the segment's
// last hash is kept as a signed base checkpoint, where verify starts. A
// pruned row whose latest entry is past the segment gets a delete entry. A
// segment whose links do not hold, or a pruned row that differs from its
// entry, stops the prune.
func (s *Store) pruneChain(ctx context.Context, tx *sql.Tx, deleted []prunedRow, cut int64, now time.Time) error {
	c := newChainer(ctx, s, tx)
	if err := c.head(); err != nil {
		return err
	}
	base := Checkpoint{Hash: make([]byte, 32)}
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM checkpoints WHERE kind = ? ORDER BY seq DESC LIMIT 1`, CheckpointBase).
		Scan(&base.Seq, &base.Hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("pruning the chain: reading its base: %w", err)
	}

	// The segment: the entries from the base up to the first made at or
	// after cut, with their links checked, and each row's latest in it;
	// then each row's latest entry after the segment. Batch entries stand
	// for each row they list.
	type live struct {
		tbl, row, op string
		digest       []byte
	}
	var segment []live
	index := map[string]int{}
	later := map[string]chainEntry{}
	pruned := make(map[string]bool, len(deleted))
	for _, d := range deleted {
		pruned[d.tbl+"\x00"+d.row] = true
	}
	prev, end := base.Hash, base.Seq
	v, err := s.d.version(ctx, tx)
	if err != nil {
		return fmt.Errorf("pruning the chain: reading the schema version: %w", err)
	}
	rows, err := tx.QueryContext(ctx, chainQuery(v >= batchVersion), base.Seq)
	if err != nil {
		return fmt.Errorf("pruning the chain: %w", err)
	}
	inSegment := true
	for rows.Next() {
		var seq, at int64
		var tbl, row, op string
		var digest, hash, list []byte
		if err := rows.Scan(&seq, &at, &tbl, &row, &op, &digest, &hash, &list); err != nil {
			rows.Close()
			return fmt.Errorf("pruning the chain: %w", err)
		}
		inSegment = inSegment && at < cut
		var entries []live
		if op == OpBatch {
			listed, err := decodeBatch(list)
			if bad, whole := checkBatch(listed, digest); err != nil || bad >= 0 || !whole {
				rows.Close()
				return fmt.Errorf("pruning the chain: the batch entry at seq %d does not hold together; not pruning a chain that fails verification (run vigil verify)", seq)
			}
			for _, lr := range listed {
				entries = append(entries, live{tbl, lr.key, OpInsert, lr.digest[:]})
			}
		} else {
			entries = []live{{tbl, row, op, digest}}
		}
		if !inSegment {
			// Only the rows the prune deletes or carries: the chain past
			// the segment holds every live row.
			for _, l := range entries {
				k := l.tbl + "\x00" + l.row
				if _, ok := index[k]; ok || pruned[k] {
					later[k] = chainEntry{seq: seq, op: l.op, digest: l.digest}
				}
			}
			continue
		}
		if h := entryHash(prev, seq, at, tbl, row, op, digest); seq != end+1 || !bytes.Equal(h[:], hash) {
			rows.Close()
			return fmt.Errorf("pruning the chain: the entry at seq %d does not follow from the one before; not cutting a segment that fails verification (run vigil verify)", end+1)
		}
		prev, end = hash, seq
		for _, l := range entries {
			k := l.tbl + "\x00" + l.row
			if i, ok := index[k]; ok {
				segment[i] = l
			} else {
				index[k] = len(segment)
				segment = append(segment, l)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pruning the chain: %w", err)
	}

	gone := make(map[string]bool, len(deleted))
	for _, d := range deleted {
		k := d.tbl + "\x00" + d.row
		e, ok := later[k]
		if !ok {
			if i, inSeg := index[k]; inSeg {
				e, ok = chainEntry{seq: end, op: segment[i].op, digest: segment[i].digest}, true
			}
		}
		if !ok || e.op == OpDelete || !bytes.Equal(e.digest, d.digest[:]) {
			return fmt.Errorf("pruning the chain: %s row %s differs from what the chain recorded; not pruning it, which would hide the change (run vigil verify)", d.tbl, d.row)
		}
		gone[k] = true
		if e.seq > end {
			if err := c.put(d.tbl, d.row, OpDelete, nil); err != nil {
				return err
			}
		}
	}
	if end == base.Seq {
		return nil
	}
	for _, l := range segment {
		k := l.tbl + "\x00" + l.row
		if l.op == OpDelete || gone[k] {
			continue
		}
		if _, ok := later[k]; ok {
			continue // a later entry holds the row
		}
		if err := c.put(l.tbl, l.row, OpCarry, l.digest); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM chain WHERE seq <= ?`, end); err != nil {
		return fmt.Errorf("pruning the chain: %w", err)
	}
	cp := Checkpoint{Seq: end, Hash: prev, At: now.UTC().Truncate(time.Millisecond), Kind: CheckpointBase, Sig: []byte{}}
	if s.sign != nil {
		cp.Sig = s.sign(cp.Message())
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (seq, hash, at, kind, sig) VALUES (?, ?, ?, ?, ?)`,
		cp.Seq, cp.Hash, ms(cp.At), cp.Kind, cp.Sig); err != nil {
		return fmt.Errorf("pruning the chain: storing its base: %w", err)
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigilhq/vigil/event"
)

// Loss is a record of events that did not arrive: reported by the agent
// (ringbuf_full, spool_full) or inferred from a gap in its seq (seq_gap,
// with the missing range).
type Loss struct {
	Time    time.Time `json:"time"`
	Site    string    `json:"site"`
	Host    string    `json:"host"`
	AgentID string    `json:"agent_id"`
	BootID  string    `json:"boot_id"`
	Reason  string    `json:"reason"`
	Sensor  string    `json:"sensor,omitempty"`
	Count   uint64    `json:"count"`
	FromSeq uint64    `json:"from_seq,omitempty"`
	ToSeq   uint64    `json:"to_seq,omitempty"`
	// Pending marks a gap not yet confirmed as loss: late events may
	// still fill it, and it is not counted in the loss metric.
	Pending bool `json:"pending,omitempty"`
}

// ReasonSeqGap marks loss inferred from missing sequence numbers.
const ReasonSeqGap = "seq_gap"

// AddLoss records loss. A gap in the seqs is recorded unconfirmed
// (ConfirmGaps); loss an agent reported is confirmed.
func (t *Tx) AddLoss(l Loss) error {
	confirmed := int64(1)
	if l.Reason == ReasonSeqGap {
		confirmed = 0
	}
	return t.chainInserted("loss", t.stmt(t.s.addLoss).QueryRowContext(t.ctx, ms(l.Time), l.Site, l.Host, l.AgentID, l.BootID, l.Reason, l.Sensor,
		int64(l.Count), int64(l.FromSeq), int64(l.ToSeq), confirmed))
}

type seqKey struct{ agentID, bootID string }

type seqState struct {
	max   int64
	dirty bool
}

// TrackSeq notes a newly stored event's seq. A jump past the highest seq
// seen for its (agent, boot) records the missing range as loss and returns
// it; a seq that fills part of a recorded gap shrinks that record.
func (t *Tx) TrackSeq(ev *event.Event, now time.Time) (*Loss, error) {
	if ev.Seq == 0 {
		return nil, nil
	}
	st, err := t.seqState(ev.AgentID, ev.BootID)
	if err != nil {
		return nil, err
	}
	seq, maxSeq := int64(ev.Seq), st.max
	if seq <= maxSeq {
		return nil, t.fillGap(ev.AgentID, ev.BootID, seq)
	}
	st.max, st.dirty = seq, true
	if seq == maxSeq+1 {
		return nil, nil
	}
	l := Loss{Time: now, Site: ev.Site, Host: ev.Host, AgentID: ev.AgentID, BootID: ev.BootID, Reason: ReasonSeqGap,
		Count: uint64(seq - maxSeq - 1), FromSeq: uint64(maxSeq + 1), ToSeq: uint64(seq - 1)}
	return &l, t.AddLoss(l)
}

// seqState is the highest seq seen of (agentID, bootID), read from the
// store the first time in the transaction.
func (t *Tx) seqState(agentID, bootID string) (*seqState, error) {
	k := seqKey{agentID, bootID}
	st := t.seqs[k]
	if st == nil {
		st = &seqState{}
		err := t.stmt(t.s.readSeq).QueryRowContext(t.ctx, agentID, bootID).Scan(&st.max)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("reading seq of %s: %w", agentID, err)
		}
		t.seqs[k] = st
	}
	return st, nil
}

// ExplainLoss records loss an agent reported with the range of seqs the
// lost events had (l.FromSeq..l.ToSeq of l.BootID), such as events dropped
// from its spool. A missing seq is a gap in the stream as well, so each is
// counted once, under the reason that explains it: the range's part of a
// recorded gap moves from seq_gap to l.Reason, and the part past the
// highest seq seen of that boot (no later event showed it missing) is
// recorded under l.Reason, and then counts as seen (seqs between the
// highest seen and the range are then a gap, returned as TrackSeq returns
// one, found at now). Seqs of the range that arrived are not lost. It
// returns how many seqs l explained.
func (t *Tx) ExplainLoss(l Loss, now time.Time) (explained uint64, gap *Loss, err error) {
	if l.FromSeq == 0 || l.ToSeq < l.FromSeq {
		return 0, nil, fmt.Errorf("recording loss of %s: bad seq range %d-%d", l.AgentID, l.FromSeq, l.ToSeq)
	}
	st, err := t.seqState(l.AgentID, l.BootID)
	if err != nil {
		return 0, nil, err
	}
	from, to := int64(l.FromSeq), int64(l.ToSeq)
	if to > st.max {
		if from > st.max+1 {
			gap = &Loss{Time: now, Site: l.Site, Host: l.Host, AgentID: l.AgentID, BootID: l.BootID, Reason: ReasonSeqGap,
				Count: uint64(from - st.max - 1), FromSeq: uint64(st.max + 1), ToSeq: uint64(from - 1)}
			if err := t.AddLoss(*gap); err != nil {
				return 0, nil, err
			}
		}
		tail := l
		tail.FromSeq = uint64(max(from, st.max+1))
		tail.Count = l.ToSeq - tail.FromSeq + 1
		if err := t.AddLoss(tail); err != nil {
			return 0, nil, err
		}
		explained += tail.Count
		st.max, st.dirty = to, true
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT n, from_seq, to_seq FROM loss
		WHERE agent_id = ? AND boot_id = ? AND reason = ? AND from_seq <= ? AND to_seq >= ?`,
		l.AgentID, l.BootID, ReasonSeqGap, to, from)
	if err != nil {
		return 0, nil, fmt.Errorf("reading gaps: %w", err)
	}
	type row struct{ n, from, to int64 }
	var gaps []row
	for rows.Next() {
		var g row
		if err := rows.Scan(&g.n, &g.from, &g.to); err != nil {
			rows.Close()
			return 0, nil, fmt.Errorf("reading gaps: %w", err)
		}
		gaps = append(gaps, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("reading gaps: %w", err)
	}
	for _, g := range gaps {
		lo, hi := max(g.from, from), min(g.to, to)
		// What of the gap lies outside the range stays a gap, in rows of
		// its own.
		for _, rest := range [][2]int64{{g.from, lo - 1}, {hi + 1, g.to}} {
			if rest[0] > rest[1] {
				continue
			}
			row := t.tx.QueryRowContext(t.ctx, sqlSplitGap, rest[1]-rest[0]+1, rest[0], rest[1], g.n)
			if err := t.chainInserted("loss", row); err != nil {
				return 0, nil, err
			}
		}
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE loss SET reason = ?, sensor = ?, count = ?, from_seq = ?, to_seq = ?, confirmed = 1 WHERE n = ?`,
			l.Reason, l.Sensor, hi-lo+1, lo, hi, g.n); err != nil {
			return 0, nil, fmt.Errorf("explaining gap: %w", err)
		}
		if err := t.ch.add("loss", OpUpdate, g.n); err != nil {
			return 0, nil, err
		}
		explained += uint64(hi - lo + 1)
	}
	return explained, gap, nil
}

// sqlSplitGap copies gap row n as a gap of its own over a range of seqs.
const sqlSplitGap = `INSERT INTO loss (time, site, host, agent_id, boot_id, reason, sensor, count, from_seq, to_seq, confirmed)
	SELECT time, site, host, agent_id, boot_id, reason, sensor, ?, ?, ?, confirmed FROM loss WHERE n = ? RETURNING n`

// fillGap removes seq from the gap record that holds it: a late event. A
// gap an agent's report explained (ExplainLoss) is one too.
func (t *Tx) fillGap(agentID, bootID string, seq int64) error {
	var n, from, to int64
	err := t.tx.QueryRowContext(t.ctx, `SELECT n, from_seq, to_seq FROM loss
		WHERE agent_id = ? AND boot_id = ? AND to_seq > 0 AND from_seq <= ? AND to_seq >= ?`,
		agentID, bootID, seq, seq).Scan(&n, &from, &to)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading gap: %w", err)
	}
	op := OpUpdate
	var split int64
	switch {
	case from == to:
		op = OpDelete
		_, err = t.tx.ExecContext(t.ctx, `DELETE FROM loss WHERE n = ?`, n)
	case seq == from:
		_, err = t.tx.ExecContext(t.ctx, `UPDATE loss SET from_seq = from_seq + 1, count = count - 1 WHERE n = ?`, n)
	case seq == to:
		_, err = t.tx.ExecContext(t.ctx, `UPDATE loss SET to_seq = to_seq - 1, count = count - 1 WHERE n = ?`, n)
	default:
		if _, err = t.tx.ExecContext(t.ctx, `UPDATE loss SET to_seq = ?, count = ? WHERE n = ?`, seq-1, seq-from, n); err == nil {
			err = t.tx.QueryRowContext(t.ctx, sqlSplitGap, to-seq, seq+1, to, n).Scan(&split)
		}
	}
	if err != nil {
		return fmt.Errorf("filling gap: %w", err)
	}
	if err := t.ch.add("loss", op, n); err != nil {
		return err
	}
	if split != 0 {
		return t.ch.add("loss", OpInsert, split)
	}
	return nil
}

// ConfirmGaps marks the gaps recorded before before and still open as
// loss, and returns them: late events fill a gap within seconds (an alert
// overtaking the events queued before it, a resend after a reconnection),
// so only one that stays open means events were lost.
func (s *Store) ConfirmGaps(ctx context.Context, before time.Time) ([]Loss, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("confirming gaps: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `UPDATE loss SET confirmed = 1
		WHERE reason = ? AND confirmed = 0 AND time < ?
		RETURNING time, site, host, agent_id, boot_id, reason, sensor, count, from_seq, to_seq, confirmed, n`, ReasonSeqGap, ms(before))
	if err != nil {
		return nil, fmt.Errorf("confirming gaps: %w", err)
	}
	var out []Loss
	var ns []int64
	for rows.Next() {
		l, n, err := scanLossN(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("confirming gaps: %w", err)
		}
		out, ns = append(out, l), append(ns, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("confirming gaps: %w", err)
	}
	c := newChainer(ctx, s, tx)
	for _, n := range ns {
		if err := c.add("loss", OpUpdate, n); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("confirming gaps: %w", err)
	}
	return out, nil
}

// scanLossN reads what scanLoss reads, then the row's n.
func scanLossN(rows *sql.Rows) (Loss, int64, error) {
	var l Loss
	var t, c, f, to, n int64
	var confirmed bool
	if err := rows.Scan(&t, &l.Site, &l.Host, &l.AgentID, &l.BootID, &l.Reason, &l.Sensor, &c, &f, &to, &confirmed, &n); err != nil {
		return l, 0, err
	}
	l.Time, l.Count, l.FromSeq, l.ToSeq, l.Pending = fromMS(t), uint64(c), uint64(f), uint64(to), !confirmed
	return l, n, nil
}

// scanLoss reads a loss row's time, site, host, agent_id, boot_id, reason,
// sensor, count, from_seq, to_seq and confirmed.
func scanLoss(rows *sql.Rows) (Loss, error) {
	var l Loss
	var t, c, f, to int64
	var confirmed bool
	if err := rows.Scan(&t, &l.Site, &l.Host, &l.AgentID, &l.BootID, &l.Reason, &l.Sensor, &c, &f, &to, &confirmed); err != nil {
		return l, err
	}
	l.Time, l.Count, l.FromSeq, l.ToSeq, l.Pending = fromMS(t), uint64(c), uint64(f), uint64(to), !confirmed
	return l, nil
}

// LostByAgent sums each agent's confirmed loss, over every record kept.
func (s *Store) LostByAgent(ctx context.Context) (map[string]uint64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT agent_id, SUM(count) FROM loss WHERE confirmed = 1 GROUP BY agent_id`)
	if err != nil {
		return nil, fmt.Errorf("summing loss: %w", err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("summing loss: %w", err)
		}
		out[id] = uint64(n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("summing loss: %w", err)
	}
	return out, nil
}

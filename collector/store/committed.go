package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// AgentBoot is one boot of one agent.
type AgentBoot struct{ AgentID, BootID string }

// TrackedBoots are the (agent, boot) pairs whose seqs the transaction
// tracked.
func (t *Tx) TrackedBoots() []AgentBoot {
	out := make([]AgentBoot, 0, len(t.seqs))
	for k := range t.seqs {
		out = append(out, AgentBoot{k.agentID, k.bootID})
	}
	return out
}

// Committed is the watermark of each of agentID's boots: the highest seq
// such that every event of that boot numbered up to it is stored or
// counted lost. A pending gap (events not yet arrived, not yet counted
// lost) holds it back. Boots the store has no seq of are left out.
func (s *Store) Committed(ctx context.Context, agentID string, boots []string) (map[string]uint64, error) {
	out := make(map[string]uint64, len(boots))
	for _, boot := range boots {
		var maxSeq int64
		err := s.db.QueryRowContext(ctx, `SELECT max_seq FROM seqs WHERE agent_id = ? AND boot_id = ?`, agentID, boot).Scan(&maxSeq)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the committed seq of %s boot %s: %w", agentID, boot, err)
		}
		var gap sql.NullInt64
		if err := s.db.QueryRowContext(ctx, `SELECT min(from_seq) FROM loss
			WHERE agent_id = ? AND boot_id = ? AND reason = ? AND confirmed = 0 AND to_seq > 0`,
			agentID, boot, ReasonSeqGap).Scan(&gap); err != nil {
			return nil, fmt.Errorf("reading the pending gaps of %s boot %s: %w", agentID, boot, err)
		}
		if gap.Valid && gap.Int64-1 < maxSeq {
			maxSeq = gap.Int64 - 1
		}
		if maxSeq > 0 {
			out[boot] = uint64(maxSeq)
		}
	}
	return out, nil
}

// HasEvent says whether the event id is stored.
func (s *Store) HasEvent(ctx context.Context, id string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM events WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up event %s: %w", id, err)
	}
	return true, nil
}

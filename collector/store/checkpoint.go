package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Checkpoint kinds.
const (
	CheckpointInterval = "interval" // the head, taken while the chain moves
	CheckpointShutdown = "shutdown" // the head as the collector stops
	CheckpointBase     = "base"     // the end of a pruned segment: the chain starts after it
)

// Checkpoint is a signed statement of where the chain stood.
type Checkpoint struct {
	N    int64     `json:"-"` // its row in the store
	Seq  int64     `json:"seq"`
	Hash []byte    `json:"-"`
	At   time.Time `json:"-"`
	Kind string    `json:"kind"`
	Sig  []byte    `json:"-"`
}

// Message is what a checkpoint's signature covers.
func (c Checkpoint) Message() []byte {
	return fmt.Appendf(nil, "vigil checkpoint v1 %d %x %d %s", c.Seq, c.Hash, c.At.UnixMilli(), c.Kind)
}

// Verify says whether c carries pub's signature.
func (c Checkpoint) Verify(pub ed25519.PublicKey) error {
	if len(c.Sig) == 0 {
		return errors.New("checkpoint is not signed")
	}
	if !ed25519.Verify(pub, c.Message(), c.Sig) {
		return errors.New("checkpoint signature does not verify with the public key")
	}
	return nil
}

// checkpointLine is a checkpoint as one JSON line, as published.
type checkpointLine struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	AtMS int64  `json:"at_ms"`
	Time string `json:"time"`
	Kind string `json:"kind"`
	Sig  string `json:"sig"`
}

// MarshalJSON writes c as it is published: one line per checkpoint.
func (c Checkpoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(checkpointLine{Seq: c.Seq, Hash: hex.EncodeToString(c.Hash), AtMS: c.At.UnixMilli(),
		Time: c.At.UTC().Format(time.RFC3339Nano), Kind: c.Kind, Sig: hex.EncodeToString(c.Sig)})
}

// UnmarshalJSON reads a published checkpoint line.
func (c *Checkpoint) UnmarshalJSON(b []byte) error {
	var l checkpointLine
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	h, err := hex.DecodeString(l.Hash)
	if err != nil || len(h) != 32 {
		return fmt.Errorf("checkpoint hash %q is not 32 bytes of hex", l.Hash)
	}
	sig, err := hex.DecodeString(l.Sig)
	if err != nil {
		return fmt.Errorf("checkpoint signature %q is not hex", l.Sig)
	}
	if l.Seq < 0 {
		return fmt.Errorf("checkpoint seq %d is negative", l.Seq)
	}
	*c = Checkpoint{Seq: l.Seq, Hash: h, At: time.UnixMilli(l.AtMS).UTC(), Kind: l.Kind, Sig: sig}
	return nil
}

// SetSigner makes Prune sign the base checkpoint it leaves.
func (s *Store) SetSigner(sign func(msg []byte) []byte) { s.sign = sign }

// AddCheckpoint stores c, unpublished, and returns it with its row.
func (s *Store) AddCheckpoint(ctx context.Context, c Checkpoint) (Checkpoint, error) {
	err := s.db.QueryRowContext(ctx, `INSERT INTO checkpoints (seq, hash, at, kind, sig) VALUES (?, ?, ?, ?, ?) RETURNING n`,
		c.Seq, c.Hash, ms(c.At), c.Kind, c.Sig).Scan(&c.N)
	if err != nil {
		return c, fmt.Errorf("storing checkpoint at chain seq %d: %w", c.Seq, err)
	}
	return c, nil
}

// Checkpoints returns the stored checkpoints in order; only those not yet
// published when unpublished is set.
func (s *Store) Checkpoints(ctx context.Context, unpublished bool) ([]Checkpoint, error) {
	where := ""
	if unpublished {
		where = ` WHERE published = 0`
	}
	return queryCheckpoints(ctx, s.db, where)
}

// queryCheckpoints reads the checkpoints that meet where, in order, from
// the store or from a transaction (verify reads them in its snapshot).
func queryCheckpoints(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, where string) ([]Checkpoint, error) {
	rows, err := q.QueryContext(ctx, `SELECT n, seq, hash, at, kind, sig FROM checkpoints`+where+` ORDER BY n`)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		var at int64
		if err := rows.Scan(&c.N, &c.Seq, &c.Hash, &at, &c.Kind, &c.Sig); err != nil {
			return nil, fmt.Errorf("reading checkpoints: %w", err)
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// MarkPublished records that checkpoint n reached every place it goes.
func (s *Store) MarkPublished(ctx context.Context, n int64) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE checkpoints SET published = 1 WHERE n = ?`, n); err != nil {
		return fmt.Errorf("marking checkpoint %d published: %w", n, err)
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// OutputCursor returns the last alert output name delivered, and false
// when the output has never delivered (a new output).
func (s *Store) OutputCursor(ctx context.Context, name string) (int64, bool, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT last_n FROM outputs WHERE name = ?`, name).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("reading the cursor of output %s: %w", name, err)
	}
	return n, true, nil
}

// SetOutputCursor records that output name delivered every alert up to
// n.
func (s *Store) SetOutputCursor(ctx context.Context, name string, n int64, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO outputs (name, last_n, updated) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET last_n = excluded.last_n, updated = excluded.updated`, name, n, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("saving the cursor of output %s: %w", name, err)
	}
	return nil
}

// LastAlertN is the number of the newest stored alert (0: none).
func (s *Store) LastAlertN(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(n) FROM alerts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("reading the newest alert: %w", err)
	}
	return n.Int64, nil
}

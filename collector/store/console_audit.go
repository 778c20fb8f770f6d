package store

import (
	"context"
	"fmt"
)

// AuditByAction returns the audit log's records of one action (such as an
// agent's revocation), newest first, at most limit of them.
func (s *Store) AuditByAction(ctx context.Context, action string, limit int) ([]AuditEntry, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT n, at, actor, action, target, detail FROM audit
		WHERE action = ? ORDER BY n DESC LIMIT %d`, limit), action)
	if err != nil {
		return nil, fmt.Errorf("reading the audit log's %s records: %w", action, err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.N, &at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("reading the audit log's %s records: %w", action, err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the audit log's %s records: %w", action, err)
	}
	return out, nil
}

package store

import (
	"context"
	"fmt"
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
// them, loss records, and audit records older than Alerts.
func (s *Store) Prune(ctx context.Context, now time.Time, r Retention) (events, alerts int64, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("starting to prune: %w", err)
	}
	defer tx.Rollback()
	alertCut, eventCut := ms(now.Add(-r.Alerts)), ms(now.Add(-r.Events))
	if _, err = tx.ExecContext(ctx, `DELETE FROM alert_evidence WHERE alert_id IN (SELECT id FROM alerts WHERE received < ?)`, alertCut); err != nil {
		return 0, 0, fmt.Errorf("pruning evidence: %w", err)
	}
	if _, err = tx.ExecContext(ctx, `DELETE FROM triage WHERE alert_id IN (SELECT id FROM alerts WHERE received < ?)`, alertCut); err != nil {
		return 0, 0, fmt.Errorf("pruning triage: %w", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM alerts WHERE received < ?`, alertCut)
	if err != nil {
		return 0, 0, fmt.Errorf("pruning alerts: %w", err)
	}
	alerts, _ = res.RowsAffected()
	res, err = tx.ExecContext(ctx, `DELETE FROM events WHERE received < ? AND id NOT IN (SELECT event_id FROM alert_evidence)`, eventCut)
	if err != nil {
		return 0, 0, fmt.Errorf("pruning events: %w", err)
	}
	events, _ = res.RowsAffected()
	if _, err = tx.ExecContext(ctx, `DELETE FROM loss WHERE time < ?`, alertCut); err != nil {
		return 0, 0, fmt.Errorf("pruning loss: %w", err)
	}
	if _, err = tx.ExecContext(ctx, pruneAuditQuery, alertCut); err != nil {
		return 0, 0, fmt.Errorf("pruning the audit log: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return events, alerts, fmt.Errorf("committing prune: %w", err)
	}
	return events, alerts, nil
}

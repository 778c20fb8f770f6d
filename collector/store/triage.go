package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Alert statuses; an alert nobody triaged is open.
const (
	StatusOpen         = "open"
	StatusAcknowledged = "acknowledged"
	StatusClosed       = "closed"
)

// Statuses lists the statuses an alert may have.
var Statuses = []string{StatusOpen, StatusAcknowledged, StatusClosed}

// Triage actions.
const (
	ActAcknowledge = "acknowledge"
	ActAssign      = "assign"
	ActClose       = "close"
	ActReopen      = "reopen"
	ActNote        = "note"
)

// CloseReasons are why an alert may be closed.
var CloseReasons = []string{"true_positive", "benign", "false_positive"}

// TriageAction is one thing an analyst does to an alert.
type TriageAction struct {
	Action   string `json:"action"`
	Reason   string `json:"reason,omitempty"`   // close: one of CloseReasons
	Assignee string `json:"assignee,omitempty"` // assign
	Note     string `json:"note,omitempty"`
}

// Triage is where an alert stands.
type Triage struct {
	Status   string    `json:"status"`
	Reason   string    `json:"reason,omitempty"`
	Assignee string    `json:"assignee,omitempty"`
	By       string    `json:"by,omitempty"`
	At       time.Time `json:"at,omitzero"`
}

// AuditEntry is one recorded read of evidence or triage action.
type AuditEntry struct {
	N      int64     `json:"n"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail,omitempty"`
}

// maxNote bounds a note, so the audit log cannot be filled by one request.
const maxNote = 4000

// Check says what is wrong with a, if anything.
func (a TriageAction) Check() error {
	switch a.Action {
	case ActAcknowledge, ActReopen:
	case ActNote:
		if strings.TrimSpace(a.Note) == "" {
			return errors.New("a note needs text")
		}
	case ActAssign:
		if !validActor(a.Assignee) {
			return fmt.Errorf("assign: assignee %q is not a user name", a.Assignee)
		}
	case ActClose:
		if !slices.Contains(CloseReasons, a.Reason) {
			return fmt.Errorf("close: reason %q: want one of %s", a.Reason, strings.Join(CloseReasons, ", "))
		}
	default:
		return fmt.Errorf("triage action %q: want acknowledge, assign, close, reopen or note", a.Action)
	}
	if len(a.Note) > maxNote {
		return fmt.Errorf("a note holds at most %d bytes", maxNote)
	}
	return nil
}

func validActor(s string) bool { return s != "" && len(s) <= 80 && !strings.ContainsAny(s, "\n\r\t") }

// Triage applies action to the alert alertID on behalf of actor and
// records it in the audit log, in one transaction, and returns where the
// alert then stands.
func (s *Store) Triage(ctx context.Context, alertID, actor string, a TriageAction, now time.Time) (Triage, error) {
	if err := a.Check(); err != nil {
		return Triage{}, err
	}
	if !validActor(actor) {
		return Triage{}, fmt.Errorf("triage of %s: no one to record it as", alertID)
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return Triage{}, fmt.Errorf("triaging alert %s: %w", alertID, err)
	}
	defer tx.Rollback()
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM alerts WHERE id = ?`, alertID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return Triage{}, fmt.Errorf("alert %q: %w", alertID, ErrNotFound)
	} else if err != nil {
		return Triage{}, fmt.Errorf("triaging alert %s: %w", alertID, err)
	}
	cur, err := triageOf(ctx, tx, alertID)
	if err != nil {
		return Triage{}, err
	}
	next := cur
	switch a.Action {
	case ActAcknowledge:
		next.Status, next.Reason = StatusAcknowledged, ""
	case ActClose:
		next.Status, next.Reason = StatusClosed, a.Reason
	case ActReopen:
		next.Status, next.Reason = StatusOpen, ""
	case ActAssign:
		next.Assignee = a.Assignee
		if next.Status == StatusOpen {
			next.Status = StatusAcknowledged
		}
	}
	if a.Action != ActNote {
		next.By, next.At = actor, now.UTC()
		_, err = tx.ExecContext(ctx, `INSERT INTO triage (alert_id, status, reason, assignee, actor, at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (alert_id) DO UPDATE SET status = excluded.status, reason = excluded.reason,
			assignee = excluded.assignee, actor = excluded.actor, at = excluded.at`,
			alertID, next.Status, next.Reason, next.Assignee, actor, ms(now))
		if err != nil {
			return Triage{}, fmt.Errorf("triaging alert %s: %w", alertID, err)
		}
		if err := newChainer(ctx, s, tx).add("triage", OpWrite, alertID); err != nil {
			return Triage{}, err
		}
	}
	detail := strings.TrimSpace(strings.Join(slices.DeleteFunc([]string{a.Reason, a.Assignee, a.Note},
		func(s string) bool { return s == "" }), ": "))
	if err := s.audit(ctx, tx, AuditEntry{At: now, Actor: actor, Action: a.Action, Target: alertID, Detail: detail}); err != nil {
		return Triage{}, err
	}
	if err := tx.Commit(); err != nil {
		return Triage{}, fmt.Errorf("triaging alert %s: %w", alertID, err)
	}
	return next, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// TriageOf returns where the alert alertID stands.
func (s *Store) TriageOf(ctx context.Context, alertID string) (Triage, error) {
	return triageOf(ctx, s.db, alertID)
}

func triageOf(ctx context.Context, q querier, alertID string) (Triage, error) {
	t := Triage{Status: StatusOpen}
	var at int64
	err := q.QueryRowContext(ctx, `SELECT status, reason, assignee, actor, at FROM triage WHERE alert_id = ?`, alertID).
		Scan(&t.Status, &t.Reason, &t.Assignee, &t.By, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Triage{Status: StatusOpen}, nil
	}
	if err != nil {
		return Triage{}, fmt.Errorf("reading the triage of alert %s: %w", alertID, err)
	}
	t.At = fromMS(at)
	return t, nil
}

// Audit records e (a read of evidence, a sign-in).
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("recording %s of %s by %s in the audit log: %w", e.Action, e.Target, e.Actor, err)
	}
	defer tx.Rollback()
	if err := s.audit(ctx, tx, e); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recording %s of %s by %s in the audit log: %w", e.Action, e.Target, e.Actor, err)
	}
	return nil
}

func (s *Store) audit(ctx context.Context, tx *sql.Tx, e AuditEntry) error {
	var n int64
	err := tx.QueryRowContext(ctx, `INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?) RETURNING n`,
		ms(e.At), e.Actor, e.Action, e.Target, e.Detail).Scan(&n)
	if err != nil {
		return fmt.Errorf("recording %s of %s by %s in the audit log: %w", e.Action, e.Target, e.Actor, err)
	}
	return newChainer(ctx, s, tx).add("audit", OpInsert, n)
}

// AuditLog returns the audit log, newest first: about target only when it
// is not empty.
func (s *Store) AuditLog(ctx context.Context, target string, limit int) ([]AuditEntry, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	q := `SELECT n, at, actor, action, target, detail FROM audit`
	var args []any
	if target != "" {
		q += ` WHERE target = ?`
		args = append(args, target)
	}
	q += fmt.Sprintf(` ORDER BY n DESC LIMIT %d`, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.N, &at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("reading the audit log: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

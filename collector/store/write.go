package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigilhq/vigil/event"
)

// Tx is one batch of writes, committed together before the batch's
// messages are acknowledged. Agents, sites and each (agent, boot)'s highest
// seq change many times in a batch but only their last state matters: the
// Tx keeps them in memory and writes each once, at Commit.
type Tx struct {
	s     *Store
	tx    *sql.Tx
	ctx   context.Context
	ch    *chainer
	stmts map[*sql.Stmt]*sql.Stmt
	seqs  map[seqKey]*seqState
	boots map[seqKey]string // BootOwner's answers
	seen  map[string]*seenAgent
	sites map[string]int64
}

type seenAgent struct {
	site, host, bootID string
	first, last        int64
	hbTime             int64
	hb                 []byte
}

// Begin starts a write batch.
func (s *Store) Begin(ctx context.Context) (*Tx, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting store transaction: %w", err)
	}
	// The transaction ends (rolls back) when ctx does; its statements run
	// without it, since the driver starts a goroutine to watch a
	// cancellable context for every statement, which costs more than an
	// insert of one row.
	ctx = context.WithoutCancel(ctx)
	return &Tx{s: s, tx: tx, ctx: ctx, ch: newChainer(ctx, s, tx), stmts: map[*sql.Stmt]*sql.Stmt{}, seqs: map[seqKey]*seqState{}, boots: map[seqKey]string{},
		seen: map[string]*seenAgent{}, sites: map[string]int64{}}, nil
}

// stmt is one of the store's prepared statements bound to this transaction.
func (t *Tx) stmt(s *sql.Stmt) *sql.Stmt {
	if ts, ok := t.stmts[s]; ok {
		return ts
	}
	ts := t.tx.StmtContext(t.ctx, s)
	t.stmts[s] = ts
	return ts
}

// Commit writes what the batch kept in memory and commits it.
func (t *Tx) Commit() error {
	if err := t.ch.flush(); err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return err
	}
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("committing store transaction: %w", err)
	}
	return nil
}

func (t *Tx) flush() error {
	for k, st := range t.seqs {
		if !st.dirty {
			continue
		}
		if _, err := t.stmt(t.s.saveSeq).ExecContext(t.ctx, k.agentID, k.bootID, st.max); err != nil {
			return fmt.Errorf("saving seq of %s: %w", k.agentID, err)
		}
	}
	for id, a := range t.seen {
		var hb any // NULL keeps the stored heartbeat
		if a.hb != nil {
			hb = a.hb
		}
		if _, err := t.stmt(t.s.seenAgent).ExecContext(t.ctx, id, a.site, a.host, a.bootID, a.first, a.last, a.hbTime, hb); err != nil {
			return fmt.Errorf("recording agent %s: %w", id, err)
		}
	}
	for site, last := range t.sites {
		if _, err := t.stmt(t.s.seenSite).ExecContext(t.ctx, site, last, last); err != nil {
			return fmt.Errorf("recording site %s: %w", site, err)
		}
	}
	return nil
}

// Rollback abandons the batch.
func (t *Tx) Rollback() error { return t.tx.Rollback() }

// PutEvent stores an event; inserted is false when its id was stored
// before (a duplicate delivery).
func (t *Tx) PutEvent(ev *event.Event, body []byte, received time.Time) (inserted bool, err error) {
	vals := []any{ev.ID, ms(ev.Time), ms(received), string(ev.Kind), ev.Site, ev.Host, ev.AgentID, ev.BootID, int64(ev.Seq),
		ev.Person(), body}
	args := append(vals, eventMeasures(ev).values()...)
	var n int64
	if t.s.d.putEventReturning != "" {
		err = t.stmt(t.s.putEvent).QueryRowContext(t.ctx, args...).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil // stored before
		}
	} else {
		var res sql.Result
		if res, err = t.stmt(t.s.putEvent).ExecContext(t.ctx, args...); err == nil {
			if k, _ := res.RowsAffected(); k != 1 {
				return false, nil // stored before
			}
			n, err = res.LastInsertId()
		}
	}
	if err != nil {
		return false, fmt.Errorf("storing event %s: %w", ev.ID, err)
	}
	return true, t.ch.addInserted("events", vals, n)
}

// chainInserted chains the row an INSERT ... RETURNING n just made,
// reading n from row.
func (t *Tx) chainInserted(tbl string, row *sql.Row) error {
	var n int64
	if err := row.Scan(&n); err != nil {
		return fmt.Errorf("storing a new %s row: %w", tbl, err)
	}
	return t.ch.add(tbl, OpInsert, n)
}

// alertPerson is who an alert is about: the event's person, else the
// person the rule grouped by.
func alertPerson(ev *event.Event) string {
	if p := ev.Person(); p != "" {
		return p
	}
	if ev.Alert != nil {
		for _, k := range []string{"person", "login_user", "user"} {
			if v := ev.Alert.Group[k]; v != "" {
				return v
			}
		}
	}
	return ""
}

// PutAlert stores an alert and links its evidence; inserted is false for a
// repeat of a stored alert id. The evidence events may arrive later: the
// links are by id and resolve when they do.
func (t *Tx) PutAlert(ev *event.Event, received time.Time) (inserted bool, err error) {
	if ev.Alert == nil {
		return false, fmt.Errorf("storing alert %s: no alert payload", ev.ID)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return false, fmt.Errorf("storing alert %s: %w", ev.ID, err)
	}
	a := ev.Alert
	var n int64
	err = t.stmt(t.s.putAlert).QueryRowContext(t.ctx,
		ev.ID, ms(ev.Time), ms(received), a.Rule, a.Severity, int64(event.SeverityRank(a.Severity)), a.Scope, ev.Site, ev.Host,
		ev.AgentID, alertPerson(ev), a.Summary, body).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // stored before
	}
	if err != nil {
		return false, fmt.Errorf("storing alert %s: %w", ev.ID, err)
	}
	if err := t.ch.add("alerts", OpInsert, n); err != nil {
		return false, err
	}
	for _, id := range a.Evidence {
		res, err := t.stmt(t.s.putEvidence).ExecContext(t.ctx, ev.ID, id)
		if err != nil {
			return false, fmt.Errorf("storing evidence of alert %s: %w", ev.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if err := t.ch.add("alert_evidence", OpInsert, ev.ID, id); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// SeenAgent records that an agent sent something, at Commit; a heartbeat
// is also kept as the agent's latest.
func (t *Tx) SeenAgent(ev *event.Event, now time.Time) error {
	a := t.seen[ev.AgentID]
	if a == nil {
		a = &seenAgent{first: ms(now)}
		t.seen[ev.AgentID] = a
	}
	a.site, a.host, a.bootID, a.last = ev.Site, ev.Host, ev.BootID, ms(now)
	if ev.Kind == event.KindHeartbeat {
		hb, err := json.Marshal(ev.Heartbeat)
		if err != nil {
			return fmt.Errorf("recording agent %s: %w", ev.AgentID, err)
		}
		a.hb, a.hbTime = hb, ms(now)
	}
	t.sites[ev.Site] = ms(now)
	return nil
}

// Package store keeps the collector's alerts with their evidence events,
// the agents and sites it has heard from, and the loss it has seen, in an
// embedded SQLite database (modernc.org/sqlite, pure Go). The events table
// doubles as the collector's dedupe set: an event id is stored once however
// often JetStream delivers it.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite"

	"github.com/vigilhq/vigil/event"
)

const schema = `
CREATE TABLE IF NOT EXISTS events (
	n        INTEGER PRIMARY KEY,
	id       TEXT NOT NULL UNIQUE,
	time     INTEGER NOT NULL,
	received INTEGER NOT NULL,
	kind     TEXT NOT NULL,
	site     TEXT NOT NULL,
	host     TEXT NOT NULL,
	agent_id TEXT NOT NULL,
	boot_id  TEXT NOT NULL,
	seq      INTEGER NOT NULL,
	person   TEXT NOT NULL,
	body     BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_received ON events(received);
CREATE TABLE IF NOT EXISTS alerts (
	n        INTEGER PRIMARY KEY,
	id       TEXT NOT NULL UNIQUE,
	time     INTEGER NOT NULL,
	received INTEGER NOT NULL,
	rule     TEXT NOT NULL,
	severity TEXT NOT NULL,
	sev      INTEGER NOT NULL,
	scope    TEXT NOT NULL,
	site     TEXT NOT NULL,
	host     TEXT NOT NULL,
	agent_id TEXT NOT NULL,
	person   TEXT NOT NULL,
	summary  TEXT NOT NULL,
	body     BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_received ON alerts(received);
CREATE TABLE IF NOT EXISTS alert_evidence (
	alert_id TEXT NOT NULL,
	event_id TEXT NOT NULL,
	PRIMARY KEY (alert_id, event_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS evidence_event ON alert_evidence(event_id);
CREATE TABLE IF NOT EXISTS agents (
	agent_id   TEXT PRIMARY KEY,
	site       TEXT NOT NULL,
	host       TEXT NOT NULL,
	boot_id    TEXT NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	last_heartbeat INTEGER NOT NULL DEFAULT 0,
	heartbeat  BLOB
);
CREATE TABLE IF NOT EXISTS sites (
	site       TEXT PRIMARY KEY,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS loss (
	n        INTEGER PRIMARY KEY,
	time     INTEGER NOT NULL,
	site     TEXT NOT NULL,
	host     TEXT NOT NULL,
	agent_id TEXT NOT NULL,
	boot_id  TEXT NOT NULL,
	reason   TEXT NOT NULL,
	sensor   TEXT NOT NULL,
	count    INTEGER NOT NULL,
	from_seq INTEGER NOT NULL DEFAULT 0,
	to_seq   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS loss_gap ON loss(agent_id, boot_id, reason);
CREATE TABLE IF NOT EXISTS seqs (
	agent_id TEXT NOT NULL,
	boot_id  TEXT NOT NULL,
	max_seq  INTEGER NOT NULL,
	PRIMARY KEY (agent_id, boot_id)
) WITHOUT ROWID;
`

// Store is the collector's database.
type Store struct {
	db *sql.DB
	// Statements every batch runs, parsed once: SQLite's parser cost as much
	// as the inserts themselves when each Exec prepared its text again.
	putEvent, putAlert, putEvidence, addLoss, readSeq, saveSeq, seenAgent, seenSite *sql.Stmt
}

const (
	sqlPutEvent = `INSERT OR IGNORE INTO events
		(id, time, received, kind, site, host, agent_id, boot_id, seq, person, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlPutAlert = `INSERT OR IGNORE INTO alerts
		(id, time, received, rule, severity, sev, scope, site, host, agent_id, person, summary, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlPutEvidence = `INSERT OR IGNORE INTO alert_evidence (alert_id, event_id) VALUES (?, ?)`
	sqlAddLoss     = `INSERT INTO loss (time, site, host, agent_id, boot_id, reason, sensor, count, from_seq, to_seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlReadSeq = `SELECT max_seq FROM seqs WHERE agent_id = ? AND boot_id = ?`
	sqlSaveSeq = `INSERT INTO seqs (agent_id, boot_id, max_seq) VALUES (?, ?, ?)
		ON CONFLICT (agent_id, boot_id) DO UPDATE SET max_seq = excluded.max_seq`
	sqlSeenAgent = `INSERT INTO agents (agent_id, site, host, boot_id, first_seen, last_seen, last_heartbeat, heartbeat)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (agent_id) DO UPDATE SET site = excluded.site, host = excluded.host, boot_id = excluded.boot_id,
			last_seen = excluded.last_seen,
			last_heartbeat = CASE WHEN excluded.last_heartbeat > 0 THEN excluded.last_heartbeat ELSE agents.last_heartbeat END,
			heartbeat = COALESCE(excluded.heartbeat, agents.heartbeat)`
	sqlSeenSite = `INSERT INTO sites (site, first_seen, last_seen) VALUES (?, ?, ?)
		ON CONFLICT (site) DO UPDATE SET last_seen = excluded.last_seen`
)

// Open opens (or creates) the database at path.
func Open(path string) (*Store, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(OFF)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	// One writer; readers (the API) use their own connections under WAL.
	db.SetMaxOpenConns(4)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("creating store schema in %s: %w", path, err)
	}
	s := &Store{db: db}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{{&s.putEvent, sqlPutEvent}, {&s.putAlert, sqlPutAlert}, {&s.putEvidence, sqlPutEvidence}, {&s.addLoss, sqlAddLoss},
		{&s.readSeq, sqlReadSeq}, {&s.saveSeq, sqlSaveSeq}, {&s.seenAgent, sqlSeenAgent}, {&s.seenSite, sqlSeenSite}} {
		if *p.stmt, err = db.Prepare(p.sql); err != nil {
			db.Close()
			return nil, fmt.Errorf("preparing store statements in %s: %w", path, err)
		}
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// Tx is one batch of writes, committed together before the batch's
// messages are acknowledged. Agents, sites and each (agent, boot)'s highest
// seq change many times in a batch but only their last state matters: the
// Tx keeps them in memory and writes each once, at Commit.
type Tx struct {
	s     *Store
	tx    *sql.Tx
	ctx   context.Context
	stmts map[*sql.Stmt]*sql.Stmt
	seqs  map[seqKey]*seqState
	seen  map[string]*seenAgent
	sites map[string]int64
}

type seqKey struct{ agentID, bootID string }

type seqState struct {
	max   int64
	dirty bool
}

type seenAgent struct {
	site, host, bootID string
	first, last        int64
	hbTime             int64
	hb                 []byte
}

// Begin starts a write batch.
func (s *Store) Begin(ctx context.Context) (*Tx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("starting store transaction: %w", err)
	}
	return &Tx{s: s, tx: tx, ctx: ctx, stmts: map[*sql.Stmt]*sql.Stmt{}, seqs: map[seqKey]*seqState{},
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
	res, err := t.stmt(t.s.putEvent).ExecContext(t.ctx,
		ev.ID, ms(ev.Time), ms(received), string(ev.Kind), ev.Site, ev.Host, ev.AgentID, ev.BootID, int64(ev.Seq),
		ev.Process.Person(), body)
	if err != nil {
		return false, fmt.Errorf("storing event %s: %w", ev.ID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// alertPerson is who an alert is about: the process's person, else the
// person the rule grouped by.
func alertPerson(ev *event.Event) string {
	if p := ev.Process.Person(); p != "" {
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
	res, err := t.stmt(t.s.putAlert).ExecContext(t.ctx,
		ev.ID, ms(ev.Time), ms(received), a.Rule, a.Severity, event.SeverityRank(a.Severity), a.Scope, ev.Site, ev.Host,
		ev.AgentID, alertPerson(ev), a.Summary, body)
	if err != nil {
		return false, fmt.Errorf("storing alert %s: %w", ev.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	for _, id := range a.Evidence {
		if _, err := t.stmt(t.s.putEvidence).ExecContext(t.ctx, ev.ID, id); err != nil {
			return false, fmt.Errorf("storing evidence of alert %s: %w", ev.ID, err)
		}
	}
	return true, nil
}

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
}

// ReasonSeqGap marks loss inferred from missing sequence numbers.
const ReasonSeqGap = "seq_gap"

// AddLoss records loss.
func (t *Tx) AddLoss(l Loss) error {
	_, err := t.stmt(t.s.addLoss).ExecContext(t.ctx, ms(l.Time), l.Site, l.Host, l.AgentID, l.BootID, l.Reason, l.Sensor,
		int64(l.Count), int64(l.FromSeq), int64(l.ToSeq))
	if err != nil {
		return fmt.Errorf("recording loss: %w", err)
	}
	return nil
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
// one). Seqs of the range that arrived are not lost. It returns how many
// seqs l explained.
func (t *Tx) ExplainLoss(l Loss) (explained uint64, gap *Loss, err error) {
	if l.FromSeq == 0 || l.ToSeq < l.FromSeq {
		return 0, nil, fmt.Errorf("recording loss of %s: range %d-%d", l.AgentID, l.FromSeq, l.ToSeq)
	}
	st, err := t.seqState(l.AgentID, l.BootID)
	if err != nil {
		return 0, nil, err
	}
	from, to := int64(l.FromSeq), int64(l.ToSeq)
	if to > st.max {
		if from > st.max+1 {
			gap = &Loss{Time: l.Time, Site: l.Site, Host: l.Host, AgentID: l.AgentID, BootID: l.BootID, Reason: ReasonSeqGap,
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
			if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO loss (time, site, host, agent_id, boot_id, reason, sensor, count, from_seq, to_seq)
				SELECT time, site, host, agent_id, boot_id, reason, sensor, ?, ?, ? FROM loss WHERE n = ?`,
				rest[1]-rest[0]+1, rest[0], rest[1], g.n); err != nil {
				return 0, nil, fmt.Errorf("splitting gap: %w", err)
			}
		}
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE loss SET reason = ?, sensor = ?, count = ?, from_seq = ?, to_seq = ? WHERE n = ?`,
			l.Reason, l.Sensor, hi-lo+1, lo, hi, g.n); err != nil {
			return 0, nil, fmt.Errorf("explaining gap: %w", err)
		}
		explained += uint64(hi - lo + 1)
	}
	return explained, gap, nil
}

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
	switch {
	case from == to:
		_, err = t.tx.ExecContext(t.ctx, `DELETE FROM loss WHERE n = ?`, n)
	case seq == from:
		_, err = t.tx.ExecContext(t.ctx, `UPDATE loss SET from_seq = from_seq + 1, count = count - 1 WHERE n = ?`, n)
	case seq == to:
		_, err = t.tx.ExecContext(t.ctx, `UPDATE loss SET to_seq = to_seq - 1, count = count - 1 WHERE n = ?`, n)
	default:
		if _, err = t.tx.ExecContext(t.ctx, `UPDATE loss SET to_seq = ?, count = ? WHERE n = ?`, seq-1, seq-from, n); err == nil {
			_, err = t.tx.ExecContext(t.ctx, `INSERT INTO loss (time, site, host, agent_id, boot_id, reason, sensor, count, from_seq, to_seq)
				SELECT time, site, host, agent_id, boot_id, reason, sensor, ?, ?, ? FROM loss WHERE n = ?`, to-seq, seq+1, to, n)
		}
	}
	if err != nil {
		return fmt.Errorf("filling gap: %w", err)
	}
	return nil
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

// AlertFilter selects alerts. Zero fields select everything.
type AlertFilter struct {
	Site, Host, Person, Rule, AgentID string
	// MinSeverity keeps alerts at least this severe.
	MinSeverity string
	Since       time.Time
	// Tail keeps alerts stored after the one numbered After, oldest first.
	Tail  bool
	After int64
	Limit int
}

// Alert is a stored alert.
type Alert struct {
	N        int64        `json:"n"`
	Received time.Time    `json:"received"`
	Person   string       `json:"person,omitempty"`
	Event    *event.Event `json:"event"`
}

// AlertDetail is an alert with its evidence events (those still stored).
type AlertDetail struct {
	Alert
	Evidence []*event.Event `json:"evidence"`
	// Missing lists evidence ids not in the store (not yet arrived, or pruned).
	Missing []string `json:"missing,omitempty"`
}

// Alerts lists alerts, newest first (oldest first with After).
func (s *Store) Alerts(ctx context.Context, f AlertFilter) ([]Alert, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.Site != "" {
		add("site = ?", f.Site)
	}
	if f.Host != "" {
		add("host = ?", f.Host)
	}
	if f.Person != "" {
		add("person = ?", f.Person)
	}
	if f.Rule != "" {
		add("rule = ?", f.Rule)
	}
	if f.AgentID != "" {
		add("agent_id = ?", f.AgentID)
	}
	if f.MinSeverity != "" {
		r := event.SeverityRank(f.MinSeverity)
		if r < 0 {
			return nil, fmt.Errorf("unknown severity %q (want one of %s)", f.MinSeverity, strings.Join(event.Severities, ", "))
		}
		add("sev >= ?", r)
	}
	if !f.Since.IsZero() {
		add("time >= ?", ms(f.Since))
	}
	order := "n DESC"
	if f.Tail {
		add("n > ?", f.After)
		order = "n ASC"
	}
	q := "SELECT n, received, person, body FROM alerts"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	q += fmt.Sprintf(" ORDER BY %s LIMIT %d", order, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing alerts: %w", err)
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		var a Alert
		var rec int64
		var body []byte
		if err := rows.Scan(&a.N, &rec, &a.Person, &body); err != nil {
			return nil, fmt.Errorf("listing alerts: %w", err)
		}
		a.Received = fromMS(rec)
		a.Event = new(event.Event)
		if err := json.Unmarshal(body, a.Event); err != nil {
			return nil, fmt.Errorf("alert %d: %w", a.N, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ErrNotFound says no such record is stored.
var ErrNotFound = errors.New("not found")

// AlertByID returns one alert with its evidence events.
func (s *Store) AlertByID(ctx context.Context, id string) (*AlertDetail, error) {
	var d AlertDetail
	var rec int64
	var body []byte
	err := s.db.QueryRowContext(ctx, `SELECT n, received, person, body FROM alerts WHERE id = ?`, id).Scan(&d.N, &rec, &d.Person, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("alert %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading alert %q: %w", id, err)
	}
	d.Received = fromMS(rec)
	d.Event = new(event.Event)
	if err := json.Unmarshal(body, d.Event); err != nil {
		return nil, fmt.Errorf("alert %q: %w", id, err)
	}
	d.Evidence = []*event.Event{}
	for _, eid := range d.Event.Alert.Evidence {
		ev, err := s.Event(ctx, eid)
		if errors.Is(err, ErrNotFound) {
			d.Missing = append(d.Missing, eid)
			continue
		}
		if err != nil {
			return nil, err
		}
		d.Evidence = append(d.Evidence, ev)
	}
	return &d, nil
}

// Event returns one stored event.
func (s *Store) Event(ctx context.Context, id string) (*event.Event, error) {
	var body []byte
	err := s.db.QueryRowContext(ctx, `SELECT body FROM events WHERE id = ?`, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("event %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading event %q: %w", id, err)
	}
	var ev event.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("event %q: %w", id, err)
	}
	return &ev, nil
}

// CountEvents counts stored events (tests, metrics).
func (s *Store) CountEvents(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n)
	return n, err
}

// EventIDs returns every stored event id of an agent with how many times
// it is stored (always 1: the id is unique), for the exactly-once tests.
func (s *Store) EventIDs(ctx context.Context, agentID string) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM events WHERE agent_id = ?`, agentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id]++
	}
	return out, rows.Err()
}

// Agent is an agent the collector has heard from.
type Agent struct {
	AgentID       string           `json:"agent_id"`
	Site          string           `json:"site"`
	Host          string           `json:"host"`
	BootID        string           `json:"boot_id"`
	FirstSeen     time.Time        `json:"first_seen"`
	LastSeen      time.Time        `json:"last_seen"`
	LastHeartbeat time.Time        `json:"last_heartbeat,omitzero"`
	Heartbeat     *event.Heartbeat `json:"heartbeat,omitempty"`
	// Status is filled by the collector's liveness tracker.
	Status string `json:"status,omitempty"`
}

// Agents lists every agent, by site and host.
func (s *Store) Agents(ctx context.Context) ([]Agent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT agent_id, site, host, boot_id, first_seen, last_seen, last_heartbeat, heartbeat
		FROM agents ORDER BY site, host, agent_id`)
	if err != nil {
		return nil, fmt.Errorf("listing agents: %w", err)
	}
	defer rows.Close()
	out := []Agent{}
	for rows.Next() {
		var a Agent
		var first, last, hbt int64
		var hb []byte
		if err := rows.Scan(&a.AgentID, &a.Site, &a.Host, &a.BootID, &first, &last, &hbt, &hb); err != nil {
			return nil, fmt.Errorf("listing agents: %w", err)
		}
		a.FirstSeen, a.LastSeen, a.LastHeartbeat = fromMS(first), fromMS(last), fromMS(hbt)
		if len(hb) > 0 {
			a.Heartbeat = new(event.Heartbeat)
			json.Unmarshal(hb, a.Heartbeat)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Sites lists site names.
func (s *Store) Sites(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT site FROM sites ORDER BY site`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		rows.Scan(&v)
		out = append(out, v)
	}
	return out, rows.Err()
}

// Losses lists loss records, newest first; agentID may be empty.
func (s *Store) Losses(ctx context.Context, agentID string, limit int) ([]Loss, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, `SELECT time, site, host, agent_id, boot_id, reason, sensor, count, from_seq, to_seq
		FROM loss WHERE ? = '' OR agent_id = ? ORDER BY n DESC LIMIT ?`, agentID, agentID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing loss: %w", err)
	}
	defer rows.Close()
	out := []Loss{}
	for rows.Next() {
		var l Loss
		var t, c, f, to int64
		if err := rows.Scan(&t, &l.Site, &l.Host, &l.AgentID, &l.BootID, &l.Reason, &l.Sensor, &c, &f, &to); err != nil {
			return nil, err
		}
		l.Time, l.Count, l.FromSeq, l.ToSeq = fromMS(t), uint64(c), uint64(f), uint64(to)
		out = append(out, l)
	}
	return out, rows.Err()
}

// RecentEvents calls fn on events received since t, in arrival order, to
// warm the correlation windows after a restart.
func (s *Store) RecentEvents(ctx context.Context, since time.Time, limit int, fn func(*event.Event)) error {
	rows, err := s.db.QueryContext(ctx, `SELECT body FROM (SELECT n, body FROM events WHERE received >= ? AND kind != ?
		ORDER BY n DESC LIMIT ?) ORDER BY n`, ms(since), string(event.KindHeartbeat), limit)
	if err != nil {
		return fmt.Errorf("reading recent events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return err
		}
		var ev event.Event
		if json.Unmarshal(body, &ev) == nil {
			fn(&ev)
		}
	}
	return rows.Err()
}

// Retention says how long each kind of record is kept.
type Retention struct {
	Events time.Duration // events not cited as evidence
	Alerts time.Duration // alerts, their evidence and loss records
}

// Prune deletes what retention no longer keeps: alerts (with their
// evidence links), events older than Events unless an alert still cites
// them, and loss records.
func (s *Store) Prune(ctx context.Context, now time.Time, r Retention) (events, alerts int64, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	alertCut, eventCut := ms(now.Add(-r.Alerts)), ms(now.Add(-r.Events))
	if _, err = tx.ExecContext(ctx, `DELETE FROM alert_evidence WHERE alert_id IN (SELECT id FROM alerts WHERE received < ?)`, alertCut); err != nil {
		return 0, 0, fmt.Errorf("pruning evidence: %w", err)
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
	return events, alerts, tx.Commit()
}

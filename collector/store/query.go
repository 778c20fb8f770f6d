package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigilhq/vigil/event"
)

// AlertFilter selects alerts. Zero fields select everything.
type AlertFilter struct {
	Site, Host, Person, Rule, AgentID string
	// MinSeverity keeps alerts at least this severe.
	MinSeverity string
	// Status keeps alerts whose triage status is this (open, acknowledged, closed).
	Status string
	Since  time.Time
	// Tail keeps alerts stored after the one numbered After, oldest first.
	Tail  bool
	After int64
	Limit int
}

// Alert is a stored alert.
type Alert struct {
	N        int64     `json:"n"`
	Received time.Time `json:"received"`
	Person   string    `json:"person,omitempty"`
	// Status is the alert's triage status.
	Status string       `json:"status"`
	Event  *event.Event `json:"event"`
}

// AlertDetail is an alert with its evidence events (those still stored).
type AlertDetail struct {
	Alert
	Evidence []*event.Event `json:"evidence"`
	// Missing lists evidence ids not in the store (not yet arrived, or pruned).
	Missing []string `json:"missing,omitempty"`
}

// alertsFrom is the FROM and WHERE clause, and its arguments, that select
// the alerts f keeps; with Tail, those after f.After.
func alertsFrom(f AlertFilter) (string, []any, error) {
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
			return "", nil, fmt.Errorf("unknown severity %q (want one of %s)", f.MinSeverity, strings.Join(event.Severities, ", "))
		}
		add("sev >= ?", r)
	}
	if f.Status != "" {
		if !slices.Contains(Statuses, f.Status) {
			return "", nil, fmt.Errorf("unknown status %q (want one of %s)", f.Status, strings.Join(Statuses, ", "))
		}
		add("COALESCE(t.status, 'open') = ?", f.Status)
	}
	if !f.Since.IsZero() {
		add("time >= ?", ms(f.Since))
	}
	if f.Tail {
		add("n > ?", f.After)
	}
	q := " FROM alerts LEFT JOIN triage t ON t.alert_id = alerts.id"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q, args, nil
}

// SeverityCounts counts the alerts f keeps (ignoring its severity and
// limit) by severity.
func (s *Store) SeverityCounts(ctx context.Context, f AlertFilter) (map[string]int, error) {
	f.MinSeverity, f.Tail = "", false
	from, args, err := alertsFrom(f)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT severity, count(*)"+from+" GROUP BY severity", args...)
	if err != nil {
		return nil, fmt.Errorf("counting alerts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var sev string
		var n int
		if err := rows.Scan(&sev, &n); err != nil {
			return nil, fmt.Errorf("counting alerts: %w", err)
		}
		out[sev] = n
	}
	return out, rows.Err()
}

// Alerts lists alerts, newest first (oldest first with After).
func (s *Store) Alerts(ctx context.Context, f AlertFilter) ([]Alert, error) {
	from, args, err := alertsFrom(f)
	if err != nil {
		return nil, err
	}
	order := "n DESC"
	if f.Tail {
		order = "n ASC"
	}
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	return s.listAlerts(ctx, "listing alerts", from+fmt.Sprintf(" ORDER BY %s LIMIT %d", order, limit), args)
}

// listAlerts runs the alert query whose FROM clause and what follows it is
// rest, with the columns every list of alerts reads.
func (s *Store) listAlerts(ctx context.Context, what, rest string, args []any) ([]Alert, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT n, received, person, body, COALESCE(t.status, 'open')"+rest, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		var a Alert
		var rec int64
		var body []byte
		if err := rows.Scan(&a.N, &rec, &a.Person, &body, &a.Status); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		a.Received = fromMS(rec)
		a.Event = new(event.Event)
		if err := json.Unmarshal(body, a.Event); err != nil {
			return nil, fmt.Errorf("decoding alert %d: %w", a.N, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// ErrNotFound says no such record is stored.
var ErrNotFound = errors.New("not found")

// AlertByID returns one alert with its evidence events.
func (s *Store) AlertByID(ctx context.Context, id string) (*AlertDetail, error) {
	var d AlertDetail
	var rec int64
	var body []byte
	err := s.db.QueryRowContext(ctx, `SELECT n, received, person, body, COALESCE(t.status, 'open') FROM alerts
		LEFT JOIN triage t ON t.alert_id = alerts.id WHERE id = ?`, id).Scan(&d.N, &rec, &d.Person, &body, &d.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("alert %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading alert %q: %w", id, err)
	}
	d.Received = fromMS(rec)
	d.Event = new(event.Event)
	if err := json.Unmarshal(body, d.Event); err != nil {
		return nil, fmt.Errorf("decoding alert %q: %w", id, err)
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
		return nil, fmt.Errorf("decoding event %q: %w", id, err)
	}
	return &ev, nil
}

// CountEvents counts stored events (for tests).
func (s *Store) CountEvents(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting events: %w", err)
	}
	return n, nil
}

// EventIDs returns every stored event id of an agent with how many times
// it is stored (always 1: the id is unique), for the exactly-once tests.
func (s *Store) EventIDs(ctx context.Context, agentID string) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM events WHERE agent_id = ?`, agentID)
	if err != nil {
		return nil, fmt.Errorf("listing event ids of %s: %w", agentID, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("listing event ids of %s: %w", agentID, err)
		}
		out[id]++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing event ids of %s: %w", agentID, err)
	}
	return out, nil
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
			// The store wrote it with json.Marshal; a heartbeat that
			// does not decode still leaves the agent listed.
			a.Heartbeat = new(event.Heartbeat)
			if json.Unmarshal(hb, a.Heartbeat) != nil {
				a.Heartbeat = nil
			}
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing agents: %w", err)
	}
	return out, nil
}

// Sites lists site names.
func (s *Store) Sites(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT site FROM sites ORDER BY site`)
	if err != nil {
		return nil, fmt.Errorf("listing sites: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("listing sites: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing sites: %w", err)
	}
	return out, nil
}

// Losses lists loss records, newest first; agentID may be empty. A gap
// not yet confirmed (ConfirmGaps) is Pending: it may still fill.
func (s *Store) Losses(ctx context.Context, agentID string, limit int) ([]Loss, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, `SELECT time, site, host, agent_id, boot_id, reason, sensor, count, from_seq, to_seq, confirmed
		FROM loss WHERE agent_id = ? OR ? ORDER BY n DESC LIMIT ?`, agentID, agentID == "", limit)
	if err != nil {
		return nil, fmt.Errorf("listing loss: %w", err)
	}
	defer rows.Close()
	out := []Loss{}
	for rows.Next() {
		l, err := scanLoss(rows)
		if err != nil {
			return nil, fmt.Errorf("listing loss: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing loss: %w", err)
	}
	return out, nil
}

// RecentEvents calls fn on events received since t, in arrival order, with
// when each was received, to warm the correlation windows after a restart.
func (s *Store) RecentEvents(ctx context.Context, since time.Time, limit int, fn func(ev *event.Event, received time.Time)) error {
	rows, err := s.db.QueryContext(ctx, `SELECT body, received FROM (SELECT n, body, received FROM events WHERE received >= ? AND kind != ?
		ORDER BY n DESC LIMIT ?) AS recent ORDER BY n`, ms(since), string(event.KindHeartbeat), limit)
	if err != nil {
		return fmt.Errorf("reading recent events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var body []byte
		var rec int64
		if err := rows.Scan(&body, &rec); err != nil {
			return fmt.Errorf("reading recent events: %w", err)
		}
		// Warming is best effort: an event that does not decode is left
		// out rather than stopping the others.
		var ev event.Event
		if json.Unmarshal(body, &ev) == nil {
			fn(&ev, fromMS(rec))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading recent events: %w", err)
	}
	return nil
}

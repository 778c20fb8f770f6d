package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/vigilhq/vigil/event"
)

// CaseGap is how long a person may go without an alert before their next
// alert opens a new case: one piece of work (a dump, the file it makes, its
// upload) raises its alerts within minutes to an hour, while two quiet
// hours part one shift's separate tasks and always part days.
const CaseGap = 2 * time.Hour

// caseAlertLimit is how many of the newest alerts cases are made from.
const caseAlertLimit = 5000

// Case is the alerts about one person (or, with no person known, one login
// session on one host) that came with less than CaseGap between them.
type Case struct {
	// ID is the id of the case's first alert.
	ID     string `json:"id"`
	Person string `json:"person,omitempty"`
	// Session is "host/session" for a case keyed by login session.
	Session  string    `json:"session,omitempty"`
	Hosts    []string  `json:"hosts"`
	Rules    []string  `json:"rules"`
	Severity string    `json:"severity"` // the most severe of its alerts
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
	AlertIDs []string  `json:"alert_ids"` // oldest first
	// Alerts are the case's alerts, oldest first.
	Alerts []Alert `json:"-"`
}

// CaseDetail is a case with its alerts and their evidence, each event once.
type CaseDetail struct {
	Case
	AlertList []Alert `json:"alerts"`
	// Evidence is every alert's evidence, each event once, oldest first.
	Evidence []*event.Event `json:"evidence"`
	// CitedBy names, per evidence event id, the rules of the alerts citing it.
	CitedBy map[string][]string `json:"cited_by"`
	// Missing lists evidence ids not in the store.
	Missing []string `json:"missing,omitempty"`
}

// caseKey is what groups an alert: its person, else its login session on
// its host; an alert with neither is a case of its own.
func caseKey(a Alert) (person, session string) {
	if a.Person != "" {
		return a.Person, ""
	}
	if p := a.Event.Process; p != nil && p.Session != 0 && p.Session != ^uint32(0) {
		return "", a.Event.Host + "/" + strconv.FormatUint(uint64(p.Session), 10)
	}
	return "", ""
}

// GroupCases groups alerts into cases: an alert joins its person's (or
// session's) latest case when it came less than gap after that case's last
// alert. Cases come newest (by last alert) first.
func GroupCases(alerts []Alert, gap time.Duration) []Case {
	sorted := slices.Clone(alerts)
	slices.SortStableFunc(sorted, func(a, b Alert) int {
		return cmp.Or(a.Event.Time.Compare(b.Event.Time), cmp.Compare(a.N, b.N))
	})
	open := map[string]int{} // key: index in out of its latest case
	var out []Case
	for _, a := range sorted {
		person, session := caseKey(a)
		key := "p:" + person
		if person == "" {
			key = "s:" + session
		}
		i, ok := open[key]
		if person == "" && session == "" {
			ok = false
		}
		if !ok || a.Event.Time.Sub(out[i].Last) >= gap {
			out = append(out, Case{ID: a.Event.ID, Person: person, Session: session, First: a.Event.Time})
			i = len(out) - 1
			open[key] = i
		}
		c := &out[i]
		c.Last = a.Event.Time
		c.Alerts = append(c.Alerts, a)
		c.AlertIDs = append(c.AlertIDs, a.Event.ID)
		if !slices.Contains(c.Hosts, a.Event.Host) {
			c.Hosts = append(c.Hosts, a.Event.Host)
		}
		if !slices.Contains(c.Rules, a.Event.Alert.Rule) {
			c.Rules = append(c.Rules, a.Event.Alert.Rule)
		}
		if event.SeverityRank(a.Event.Alert.Severity) > event.SeverityRank(c.Severity) {
			c.Severity = a.Event.Alert.Severity
		}
	}
	slices.SortStableFunc(out, func(a, b Case) int { return cmp.Or(b.Last.Compare(a.Last), cmp.Compare(b.ID, a.ID)) })
	return out
}

// Cases groups the newest alerts f keeps (at most caseAlertLimit) into
// cases, newest first; a case older than those alerts may show in part.
func (s *Store) Cases(ctx context.Context, f AlertFilter) ([]Case, error) {
	f.Tail, f.After, f.Limit = false, 0, caseAlertLimit
	list, err := s.Alerts(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("making cases: %w", err)
	}
	return GroupCases(list, CaseGap), nil
}

// CaseOf returns the case holding the alert alertID, with every alert's
// evidence.
func (s *Store) CaseOf(ctx context.Context, alertID string) (*CaseDetail, error) {
	first, err := s.AlertByID(ctx, alertID)
	if err != nil {
		return nil, err
	}
	// Only the alerts that can share its key are read: its person's, or
	// (no person) those on its host.
	f := AlertFilter{Person: first.Person, Limit: caseAlertLimit}
	if first.Person == "" {
		f.Host = first.Event.Host
	}
	list, err := s.Alerts(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("making the case of alert %s: %w", alertID, err)
	}
	if f.Person == "" {
		list = slices.DeleteFunc(list, func(a Alert) bool { return a.Person != "" })
	}
	if !slices.ContainsFunc(list, func(a Alert) bool { return a.Event.ID == alertID }) {
		list = append(list, first.Alert) // older than the newest caseAlertLimit
	}
	var c *Case
	for _, k := range GroupCases(list, CaseGap) {
		if slices.Contains(k.AlertIDs, alertID) {
			c = &k
			break
		}
	}
	if c == nil {
		return nil, errors.New("making the case of alert " + alertID + ": the alert is in no case")
	}
	d := &CaseDetail{Case: *c, AlertList: c.Alerts, Evidence: []*event.Event{}, CitedBy: map[string][]string{}}
	seen := map[string]bool{}
	for _, a := range c.Alerts {
		for _, eid := range a.Event.Alert.Evidence {
			if !slices.Contains(d.CitedBy[eid], a.Event.Alert.Rule) {
				d.CitedBy[eid] = append(d.CitedBy[eid], a.Event.Alert.Rule)
			}
			if seen[eid] {
				continue
			}
			seen[eid] = true
			ev, err := s.Event(ctx, eid)
			if errors.Is(err, ErrNotFound) {
				d.Missing = append(d.Missing, eid)
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("making the case of alert %s: %w", alertID, err)
			}
			d.Evidence = append(d.Evidence, ev)
		}
	}
	slices.SortStableFunc(d.Evidence, func(a, b *event.Event) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Seq, b.Seq))
	})
	return d, nil
}

package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// An empty store answers every query with nothing, as empty lists (the
// API encodes them as [] rather than null), and not-found for ids.
func TestQueriesOnEmptyStore(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	alerts, err := st.Alerts(ctx, AlertFilter{})
	if err != nil || alerts == nil || len(alerts) != 0 {
		t.Errorf("Alerts: %v, %v; want an empty list", alerts, err)
	}
	agents, err := st.Agents(ctx)
	if err != nil || agents == nil || len(agents) != 0 {
		t.Errorf("Agents: %v, %v; want an empty list", agents, err)
	}
	sites, err := st.Sites(ctx)
	if err != nil || sites == nil || len(sites) != 0 {
		t.Errorf("Sites: %v, %v; want an empty list", sites, err)
	}
	losses, err := st.Losses(ctx, "", 0)
	if err != nil || losses == nil || len(losses) != 0 {
		t.Errorf("Losses: %v, %v; want an empty list", losses, err)
	}
	if n, err := st.CountEvents(ctx); err != nil || n != 0 {
		t.Errorf("CountEvents: %d, %v; want 0", n, err)
	}
	if ids, err := st.EventIDs(ctx, "ag-1"); err != nil || len(ids) != 0 {
		t.Errorf("EventIDs: %v, %v; want none", ids, err)
	}
	if _, err := st.AlertByID(ctx, "al-1"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "al-1") {
		t.Errorf("AlertByID: %v, want not found naming al-1", err)
	}
	if _, err := st.Event(ctx, "b1-1"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "b1-1") {
		t.Errorf("Event: %v, want not found naming b1-1", err)
	}
	called := false
	if err := st.RecentEvents(ctx, time.Time{}, 10, func(*event.Event, time.Time) { called = true }); err != nil || called {
		t.Errorf("RecentEvents: called %v, error %v; want no call", called, err)
	}
}

func TestAlertsFilter(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	mk := func(id, rule, sev, site, host, agent, user string, at time.Duration) *event.Event {
		al := newAlert(id, rule, sev)
		al.Site, al.Host, al.AgentID, al.Time = site, host, agent, t0.Add(at)
		al.Process = &event.Process{User: user}
		return al
	}
	// Stored in this order: n is 1, 2, 3, 4.
	putAlerts(t, st, t0,
		mk("a1", "dump", event.SeverityHigh, "leeds", "ws1", "ag-1", "mona", 0),
		mk("a2", "usb", event.SeverityLow, "leeds", "ws2", "ag-2", "ali", time.Hour),
		mk("a3", "dump", event.SeverityCritical, "manila", "ws3", "ag-3", "mona", 2*time.Hour),
		mk("a4", "night", event.SeverityMedium, "manila", "ws3", "ag-3", "jo", 3*time.Hour))
	for _, c := range []struct {
		name string
		f    AlertFilter
		want string
	}{
		{"everything, newest first", AlertFilter{}, "a4 a3 a2 a1"},
		{"site", AlertFilter{Site: "leeds"}, "a2 a1"},
		{"host", AlertFilter{Host: "ws3"}, "a4 a3"},
		{"person", AlertFilter{Person: "mona"}, "a3 a1"},
		{"rule", AlertFilter{Rule: "dump"}, "a3 a1"},
		{"agent", AlertFilter{AgentID: "ag-2"}, "a2"},
		{"at least medium", AlertFilter{MinSeverity: event.SeverityMedium}, "a4 a3 a1"},
		{"at least critical", AlertFilter{MinSeverity: event.SeverityCritical}, "a3"},
		{"since, by alert time", AlertFilter{Since: t0.Add(time.Hour)}, "a4 a3 a2"},
		{"filters combine", AlertFilter{Site: "manila", Rule: "dump"}, "a3"},
		{"nothing matches", AlertFilter{Site: "leeds", Host: "ws3"}, ""},
		{"limit keeps the newest", AlertFilter{Limit: 2}, "a4 a3"},
		{"tail from the start, oldest first", AlertFilter{Tail: true}, "a1 a2 a3 a4"},
		{"tail after 2", AlertFilter{Tail: true, After: 2}, "a3 a4"},
		{"tail after the last", AlertFilter{Tail: true, After: 4}, ""},
		{"tail with limit keeps the oldest", AlertFilter{Tail: true, After: 1, Limit: 2}, "a2 a3"},
		{"tail with a filter", AlertFilter{Tail: true, After: 1, Person: "mona"}, "a3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			list, err := st.Alerts(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, a := range list {
				ids = append(ids, a.Event.ID)
				if a.Received.IsZero() || a.N == 0 {
					t.Errorf("alert %s: number %d received %v", a.Event.ID, a.N, a.Received)
				}
			}
			if got := strings.Join(ids, " "); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	_, err := st.Alerts(ctx, AlertFilter{MinSeverity: "severe"})
	if err == nil || !strings.Contains(err.Error(), `"severe"`) || !strings.Contains(err.Error(), "critical") {
		t.Errorf("unknown severity: %v, want an error naming it and the known ones", err)
	}
}

// AlertByID returns the alert with the evidence events stored, in the
// order cited, and names the ids not stored; evidence that arrives later
// is found then.
func TestAlertByIDEvidence(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	e1, e2, e3 := newEvent(1), newEvent(2), newEvent(3)
	putAlerts(t, st, t0.Add(time.Minute), newAlert("al-1", "dump", event.SeverityHigh, e3.ID, "b1-99", e1.ID, e2.ID))
	putEvents(t, st, t0, e1, e3)
	d, err := st.AlertByID(ctx, "al-1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range d.Evidence {
		got = append(got, ev.ID)
	}
	if strings.Join(got, " ") != "b1-3 b1-1" || strings.Join(d.Missing, " ") != "b1-99 b1-2" {
		t.Fatalf("evidence %v missing %v, want b1-3 b1-1 and b1-99 b1-2 missing", got, d.Missing)
	}
	if d.Person != "mona" || d.Event.Alert.Rule != "dump" || !d.Received.Equal(t0.Add(time.Minute)) {
		t.Errorf("alert %+v", d.Alert)
	}
	putEvents(t, st, t0, e2)
	d, err = st.AlertByID(ctx, "al-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Evidence) != 3 || strings.Join(d.Missing, " ") != "b1-99" {
		t.Fatalf("after b1-2 arrived: %d evidence events, missing %v; want 3 and b1-99", len(d.Evidence), d.Missing)
	}
	// An alert citing nothing has an empty evidence list, not null.
	putAlerts(t, st, t0, newAlert("al-2", "r", event.SeverityLow))
	if d, err := st.AlertByID(ctx, "al-2"); err != nil || d.Evidence == nil || len(d.Evidence)+len(d.Missing) != 0 {
		t.Fatalf("alert citing nothing: %+v, %v", d, err)
	}
}

func TestAgentsAndLossesLists(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	seen := func(agent, site, host string) *event.Event {
		ev := newEvent(1)
		ev.AgentID, ev.Site, ev.Host = agent, site, host
		return ev
	}
	write(t, st, func(tx *Tx) error {
		for _, ev := range []*event.Event{seen("ag-3", "manila", "a"), seen("ag-2", "leeds", "b"), seen("ag-1", "leeds", "b"),
			seen("ag-4", "leeds", "a")} {
			if err := tx.SeenAgent(ev, t0); err != nil {
				return err
			}
		}
		return nil
	})
	agents, err := st.Agents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, a := range agents {
		order = append(order, a.AgentID)
		if a.Heartbeat != nil || !a.LastHeartbeat.IsZero() {
			t.Errorf("agent %s without heartbeats has heartbeat %+v at %v", a.AgentID, a.Heartbeat, a.LastHeartbeat)
		}
	}
	if strings.Join(order, " ") != "ag-4 ag-1 ag-2 ag-3" {
		t.Errorf("agents in order %v, want by site, host and id: ag-4 ag-1 ag-2 ag-3", order)
	}

	write(t, st, func(tx *Tx) error {
		for i, agent := range []string{"ag-1", "ag-2", "ag-1", "ag-1"} {
			if err := tx.AddLoss(Loss{Time: t0, AgentID: agent, BootID: "b1", Reason: "ringbuf_full", Count: uint64(i + 1)}); err != nil {
				return err
			}
		}
		return nil
	})
	counts := func(agent string, limit int) (out []uint64) {
		t.Helper()
		losses, err := st.Losses(ctx, agent, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range losses {
			out = append(out, l.Count)
		}
		return out
	}
	for _, c := range []struct {
		agent string
		limit int
		want  string
	}{{"", 0, "[4 3 2 1]"}, {"ag-1", 0, "[4 3 1]"}, {"ag-1", 2, "[4 3]"}, {"ag-9", 0, "[]"}} {
		if got := fmt.Sprint(counts(c.agent, c.limit)); got != c.want {
			t.Errorf("losses of %q limit %d: %s, want newest first %s", c.agent, c.limit, got, c.want)
		}
	}
}

// RecentEvents replays the newest events received since a time, oldest
// first, leaving heartbeats out.
func TestRecentEvents(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	hb := &event.Event{ID: "b1-hb", Kind: event.KindHeartbeat, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1",
		Heartbeat: &event.Heartbeat{IntervalS: 10}}
	putEvents(t, st, t0, newEvent(1))
	putEvents(t, st, t0.Add(time.Hour), newEvent(2), hb, newEvent(3), newEvent(4), newEvent(5))
	replay := func(since time.Time, limit int) string {
		t.Helper()
		var ids []string
		if err := st.RecentEvents(ctx, since, limit, func(ev *event.Event, _ time.Time) { ids = append(ids, ev.ID) }); err != nil {
			t.Fatal(err)
		}
		return strings.Join(ids, " ")
	}
	if got := replay(t0.Add(time.Hour), 100); got != "b1-2 b1-3 b1-4 b1-5" {
		t.Errorf("since the second batch: %s", got)
	}
	if got := replay(t0, 2); got != "b1-4 b1-5" {
		t.Errorf("limit 2: %s, want the newest two, oldest first", got)
	}
	if got := replay(t0.Add(2*time.Hour), 100); got != "" {
		t.Errorf("since after everything: %s", got)
	}
	received := map[string]time.Time{}
	if err := st.RecentEvents(ctx, t0, 100, func(ev *event.Event, at time.Time) { received[ev.ID] = at }); err != nil {
		t.Fatal(err)
	}
	if !received["b1-1"].Equal(t0) || !received["b1-5"].Equal(t0.Add(time.Hour)) {
		t.Errorf("received times %v, want each batch's", received)
	}
}

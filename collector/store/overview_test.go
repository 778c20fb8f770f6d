package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// The overview counts alerts per UTC day by severity and each site's events
// and alerts per day over the last 30 days: an alert a minute before
// midnight is that day's, one 30 days old is outside, a site heard from
// with no alert is listed with zeros, and a site seen only in an alert
// (a correlation across sites) is listed too.
func TestOverview(t *testing.T) {
	st := openStore(t)
	now := time.Date(2026, 1, 20, 15, 0, 0, 0, time.UTC)
	today := now.Truncate(24 * time.Hour)
	seq := uint64(0)
	ev := func(site string, at time.Time) *event.Event {
		seq++
		e := newEvent(seq)
		e.ID, e.Site, e.Time = fmt.Sprintf("b1-%d", seq), site, at
		return e
	}
	alert := func(id, site, sev string, at time.Time) *event.Event {
		a := newAlert(id, "r", sev)
		a.Site, a.Time = site, at
		return a
	}
	putEvents(t, st, now, ev("leeds", now), ev("leeds", now), ev("leeds", today.Add(-time.Minute)),
		ev("manila", today.AddDate(0, 0, -29)), ev("manila", today.AddDate(0, 0, -30)))
	putAlerts(t, st, now,
		alert("a1", "leeds", event.SeverityHigh, now), alert("a2", "leeds", event.SeverityHigh, today.Add(-time.Minute)),
		alert("a3", "leeds", event.SeverityLow, today.Add(-time.Minute)), alert("a4", "*", event.SeverityCritical, today.AddDate(0, 0, -3)),
		alert("a5", "leeds", event.SeverityHigh, today.AddDate(0, 0, -30)))

	o, err := st.Overview(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Days) != OverviewDays || !o.Days[OverviewDays-1].Equal(today) || !o.Days[0].Equal(today.AddDate(0, 0, -29)) {
		t.Fatalf("days %v .. %v (%d), want the 30 days ending %v", o.Days[0], o.Days[len(o.Days)-1], len(o.Days), today)
	}
	last, yesterday := OverviewDays-1, OverviewDays-2
	for _, c := range []struct {
		sev  string
		day  int
		want int
	}{{event.SeverityHigh, last, 1}, {event.SeverityHigh, yesterday, 1}, {event.SeverityLow, yesterday, 1},
		{event.SeverityCritical, last - 3, 1}, {event.SeverityHigh, 0, 0}, {event.SeverityInfo, last, 0}} {
		if got := o.Alerts[c.sev][c.day]; got != c.want {
			t.Errorf("%s alerts on day %d: %d, want %d", c.sev, c.day, got, c.want)
		}
	}
	if len(o.Sites) != 3 {
		t.Fatalf("sites %+v, want *, leeds and manila", o.Sites)
	}
	star, leeds, manila := o.Sites[0], o.Sites[1], o.Sites[2]
	if star.Site != "*" || star.AlertsTotal() != 1 || star.EventsTotal() != 0 {
		t.Errorf("the correlation's site: %+v", star)
	}
	if leeds.Site != "leeds" || leeds.Events[last] != 2 || leeds.Events[yesterday] != 1 || leeds.EventsTotal() != 3 ||
		leeds.Alerts[last] != 1 || leeds.Alerts[yesterday] != 2 || leeds.AlertsTotal() != 3 {
		t.Errorf("leeds: %+v", leeds)
	}
	if manila.Site != "manila" || manila.Events[0] != 1 || manila.EventsTotal() != 1 || manila.AlertsTotal() != 0 {
		t.Errorf("manila: %+v", manila)
	}
}

// The overview's queries read indexes, not the tables: each plan says so.
func TestOverviewUsesIndexes(t *testing.T) {
	st := openStore(t)
	for q, index := range map[string]string{overviewAlertsQuery: "alerts_time", overviewSiteEventsQuery: "events_site_measures"} {
		args := []any{"leeds", 0, 1}
		if q == overviewAlertsQuery {
			args = args[1:]
		}
		rows, err := st.db.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan += detail + "\n"
		}
		rows.Close()
		if want := "USING COVERING INDEX " + index; !strings.Contains(plan, want) {
			t.Errorf("the plan of %q is\n%s\nwant %s", q, plan, want)
		}
	}
}

// BenchmarkOverview is the front page's counts on a store of 200000 events
// over 30 days at 20 sites, with 20000 alerts over the year the alerts are
// kept (365 days, the default retention); then the alerts' count
// alone, with its index and without.
func BenchmarkOverview(b *testing.B) {
	const events, alerts, sites = 200000, 20000, 20
	st, err := Open(filepath.Join(b.TempDir(), "vigil.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Date(2026, 1, 20, 15, 0, 0, 0, time.UTC)
	// Times spread over the days by steps of a prime number of seconds.
	spread := func(i, step, days int) time.Time {
		return now.Add(-time.Duration(i*step%(days*86400)) * time.Second)
	}
	tx, err := st.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ev := newEvent(1)
	for i := range events {
		ev.ID, ev.Site = fmt.Sprintf("b1-%d", i), fmt.Sprintf("site-%d", i%sites)
		ev.Time = spread(i, 7919, OverviewDays)
		body, _ := json.Marshal(ev)
		// The insert alone, as BenchmarkPutEvent's: the chain is not what is measured.
		if _, err := tx.stmt(st.putEvent).ExecContext(ctx, ev.ID, ms(ev.Time), ms(now), string(ev.Kind), ev.Site, ev.Host,
			ev.AgentID, ev.BootID, int64(i), ev.Person(), body, int64(0), int64(0), int64(0), nil); err != nil {
			b.Fatal(err)
		}
		if i < sites {
			tx.sites[ev.Site] = ms(now)
		}
	}
	for i := range alerts {
		al := newAlert(fmt.Sprintf("al-%d", i), "r", event.Severities[i%len(event.Severities)])
		al.Site, al.Time = fmt.Sprintf("site-%d", i%sites), spread(i, 104729, 365)
		if _, err := tx.PutAlert(al, now); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	b.Run("overview", func(b *testing.B) {
		for b.Loop() {
			o, err := st.Overview(ctx, now)
			if err != nil {
				b.Fatal(err)
			}
			if len(o.Sites) != sites {
				b.Fatalf("%d sites, want %d", len(o.Sites), sites)
			}
		}
	})
	// The alerts' count alone, from alerts_time and then, the index
	// dropped, from the table: why the index is there.
	countAlerts := func(b *testing.B) {
		for b.Loop() {
			rows, err := st.db.QueryContext(ctx, overviewAlertsQuery, ms(now.AddDate(0, 0, -OverviewDays)), ms(now))
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
			}
			rows.Close()
		}
	}
	b.Run("alerts", countAlerts)
	if _, err := st.db.Exec(`DROP INDEX alerts_time`); err != nil {
		b.Fatal(err)
	}
	b.Run("alerts-without-index", countAlerts)
}

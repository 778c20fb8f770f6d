package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// A person's trend sums, per day, the rows their statements moved, the
// distinct identifier values they named (through sudo too), what they sent
// out and wrote to removable media; beside them, the median of their
// site's other people, and nobody from another site.
func TestPersonTrend(t *testing.T) {
	st := openStore(t)
	now := time.Date(2026, 1, 20, 15, 0, 0, 0, time.UTC)
	putEvents(t, st, now, trendEvents(now)...)
	checkMonaTrend(t, st, now)
}

// trendEvents are mona's events of a day and the day before, beside her
// peers' at leeds and someone's at paris, with the variants that must not
// count: an inbound transfer and a write to a fixed disk.
func trendEvents(now time.Time) []*event.Event {
	seq := uint64(0)
	ev := func(site string, p *event.Process, at time.Time, set func(*event.Event)) *event.Event {
		seq++
		e := &event.Event{ID: fmt.Sprintf("b1-%d", seq), Seq: seq, Time: at, Site: site, Host: "ws1", AgentID: "ag-1", BootID: "b1", Process: p}
		set(e)
		return e
	}
	query := func(rows uint64, ids ...string) func(*event.Event) {
		return func(e *event.Event) {
			e.Kind = event.KindDBQuery
			e.DB = &event.DB{Engine: "postgresql", Statement: "SELECT", Rows: rows, Identifiers: map[string][]string{"customers.id": ids}}
		}
	}
	upload := func(dir string, n uint64) func(*event.Event) {
		return func(e *event.Event) {
			e.Kind = event.KindNetTransfer
			e.Net = &event.Net{Proto: "tcp", Direction: dir, BytesSent: n}
		}
	}
	write := func(removable bool, n uint64) func(*event.Event) {
		return func(e *event.Event) {
			e.Kind = event.KindFileWrite
			e.File = &event.File{Path: "/x", Bytes: n, Removable: removable}
		}
	}
	mona := &event.Process{User: "mona", LoginUID: 1001, LoginUser: "mona"}
	sudo := &event.Process{User: "root", LoginUID: 1001, LoginUser: "mona"}
	ali := &event.Process{User: "ali", LoginUID: 1002, LoginUser: "ali"}
	bo := &event.Process{User: "bo", LoginUID: 1003, LoginUser: "bo"}
	cy := &event.Process{User: "cy", LoginUID: 1004, LoginUser: "cy"}
	at := now.Add(-time.Hour)
	return []*event.Event{
		ev("leeds", mona, at, query(5000, "h1", "h2")), ev("leeds", sudo, at, query(100, "h2", "h3")),
		ev("leeds", mona, at, upload("outbound", 1<<20)), ev("leeds", mona, at, upload("inbound", 9<<20)),
		ev("leeds", mona, at, write(true, 3<<20)), ev("leeds", mona, at, write(false, 7<<20)),
		ev("leeds", mona, now.AddDate(0, 0, -1), query(7)),
		ev("leeds", ali, at, query(10, "h9")), ev("leeds", bo, at, query(30, "h8", "h7", "h6")),
		ev("paris", cy, at, query(1e6, "h5"))}
}

// checkMonaTrend checks the person page's figures of trendEvents.
func checkMonaTrend(t *testing.T, st *Store, now time.Time) {
	t.Helper()
	tr, err := st.PersonTrend(context.Background(), "mona", now)
	if err != nil {
		t.Fatal(err)
	}
	last := ActivityDays - 1
	if len(tr.Days) != ActivityDays || !tr.Days[last].Equal(time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("days %v", tr.Days)
	}
	if strings.Join(tr.Sites, ",") != "leeds" || tr.Peers != 2 {
		t.Errorf("sites %v and %d peers, want leeds and ali and bo", tr.Sites, tr.Peers)
	}
	for _, c := range []struct {
		name         string
		s            Series
		person, peer float64
	}{
		{"rows", tr.Rows, 5100, 20},
		{"customers", tr.Customers, 3, 2},
		{"uploads", tr.Uploads, 1 << 20, 0},
		{"exports", tr.Exports, 3 << 20, 0},
	} {
		if c.s.Person[last] != c.person || c.s.Peers[last] != c.peer {
			t.Errorf("%s today: mona %v, peers %v; want %v and %v", c.name, c.s.Person[last], c.s.Peers[last], c.person, c.peer)
		}
	}
	if tr.Rows.Person[last-1] != 7 || tr.Rows.Person[0] != 0 {
		t.Errorf("rows over the days %v", tr.Rows.Person)
	}
}

// The person page's queries find a person's (and a site's) events through
// the indexes on (person, time) and (site, time), not by scanning every
// event: the page stays fast on a large store.
func TestPersonQueriesUseTheIndex(t *testing.T) {
	st := openStore(t)
	for _, c := range []struct {
		query string
		args  []any
		index string
	}{
		{activityQuery, []any{"mona", 1, 2}, "events_person_measures"},
		{trendSitesQuery, []any{"mona", 1, 2}, "events_person_measures"},
		{trendQuery(wherePerson), []any{"mona", 1, 2}, "events_person_measures"},
		{trendCustomersQuery(sqliteDialect, wherePerson), []any{"mona", 1, 2}, "events_person_measures"},
		{trendQuery(wherePeers), []any{"leeds", "mona", 1, 2}, "events_site_measures"},
		{trendCustomersQuery(sqliteDialect, wherePeers), []any{"leeds", "mona", 1, 2}, "events_site_measures"},
		{pruneAuditQuery, []any{1}, "audit_at"},
	} {
		rows, err := st.db.Query(`EXPLAIN QUERY PLAN `+c.query, c.args...)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, "USING INDEX "+c.index) && !strings.Contains(p, "USING COVERING INDEX "+c.index) {
			t.Errorf("%s\nplan: %s\nwant index %s", c.query, p, c.index)
		}
	}
}

// BenchmarkPersonTrend measures the person page's trend on a store of
// 200,000 events of 40 people at two sites, half of them statements with
// identifiers: spread over 60 days (the page's 14 days hold 46,000 of
// them), and all within the page's days.
func BenchmarkPersonTrend(b *testing.B) {
	for _, c := range []struct {
		name string
		span time.Duration
	}{{"60-days", 60 * 24 * time.Hour}, {"all-in-14-days", 13 * 24 * time.Hour}} {
		b.Run(c.name, func(b *testing.B) {
			st, err := Open(b.TempDir() + "/vigil.db")
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			const n = 200000
			tx, err := st.Begin(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			for i := range n {
				who := fmt.Sprintf("p%d", i%40)
				ev := &event.Event{ID: fmt.Sprintf("e-%d", i), Seq: uint64(i), Time: now.Add(-time.Duration(i) * (c.span / n)),
					Site: []string{"leeds", "paris"}[i%40/20], Host: "ws", AgentID: "ag", BootID: "b", Process: &event.Process{User: who, LoginUser: who}}
				if i%2 == 0 {
					ev.Kind, ev.DB = event.KindDBQuery, &event.DB{Rows: uint64(i % 100), Identifiers: map[string][]string{"customers.id": {fmt.Sprint(i % 997)}}}
				} else {
					ev.Kind, ev.Net = event.KindNetTransfer, &event.Net{Direction: "outbound", BytesSent: 100}
				}
				body, _ := json.Marshal(ev)
				if _, err := tx.PutEvent(ev, body, now); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := st.PersonTrend(context.Background(), "p3", now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

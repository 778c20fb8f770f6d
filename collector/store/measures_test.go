package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// An event's measures count only what the person page counts: an inbound
// transfer uploads nothing, a write to a fixed disk exports nothing, and a
// hash named under two identifier columns is one customer.
func TestEventMeasures(t *testing.T) {
	for _, c := range []struct {
		name string
		ev   event.Event
		want measures
	}{
		{"statement", event.Event{Kind: event.KindDBQuery, DB: &event.DB{Rows: 7,
			Identifiers: map[string][]string{"customers.id": {"h2", "h1"}, "email": {"h1"}}}}, measures{rows: 7, idents: `["h1","h2"]`}},
		{"statement naming no identifier", event.Event{Kind: event.KindDBQuery, DB: &event.DB{Rows: 3}}, measures{rows: 3}},
		{"upload", event.Event{Kind: event.KindNetTransfer, Net: &event.Net{Direction: "outbound", BytesSent: 9}}, measures{upload: 9}},
		{"download", event.Event{Kind: event.KindNetTransfer, Net: &event.Net{Direction: "inbound", BytesSent: 9}}, measures{}},
		{"export", event.Event{Kind: event.KindFileWrite, File: &event.File{Bytes: 5, Removable: true}}, measures{export: 5}},
		{"write to a fixed disk", event.Event{Kind: event.KindFileWrite, File: &event.File{Bytes: 5}}, measures{}},
		{"rows past int64", event.Event{Kind: event.KindDBQuery, DB: &event.DB{Rows: 1 << 63}}, measures{rows: 1<<63 - 1}},
	} {
		if got := eventMeasures(&c.ev); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
		body, _ := json.Marshal(&c.ev)
		if got := bodyMeasures(body); got != c.want {
			t.Errorf("%s from its body: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// A store written before the measure columns (schema version 8, its events
// with bodies only) gives the person page the same figures once opened:
// the migration fills the columns from the bodies.
func TestMigratedStoreTrendFromBodies(t *testing.T) {
	path := storeTarget(t)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range migrations[:measuresVersion-1] {
		if _, err := db.Exec(m); err != nil {
			t.Fatalf("migration %d: %v", i+1, err)
		}
	}
	now := time.Date(2026, 1, 20, 15, 0, 0, 0, time.UTC)
	for _, ev := range trendEvents(now) {
		body, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO events (id, time, received, kind, site, host, agent_id, boot_id, seq, person, body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ev.ID, ms(ev.Time), ms(now), string(ev.Kind), ev.Site, ev.Host, ev.AgentID,
			ev.BootID, int64(ev.Seq), ev.Person(), body); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, measuresVersion-1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Runs shorter than the events, so the migration reads several.
	defer func(n int) { fillRun = n }(fillRun)
	fillRun = 3
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkMonaTrend(t, st, now)
	var stale int
	if err := st.db.QueryRowContext(context.Background(), `SELECT count(*) FROM events WHERE kind = 'db.query' AND db_rows = 0`).Scan(&stale); err != nil || stale != 0 {
		t.Errorf("%d statements left unmeasured (%v)", stale, err)
	}
}

// Verify says which measure column was edited and what the body says.
func TestVerifyNamesEditedMeasure(t *testing.T) {
	path := chainedStore(t)
	tamper(t, path, `UPDATE events SET db_rows = 3 WHERE n = 6`)
	r := verify(t, path, nil, nil)
	if len(r.Findings) != 1 || !strings.Contains(r.Findings[0].Detail, "column db_rows holds 3, but its body says 40") {
		t.Fatalf("findings %v", r.Findings)
	}
}

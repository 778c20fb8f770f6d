package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testproc"
)

// An event id is stored once, in one batch or across batches; the body
// first stored stays.
func TestPutEventStoresAnIDOnce(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	first := newEvent(1)
	again := newEvent(1)
	again.File.Path = "/tmp/other.csv"
	var got []bool
	put := func(tx *Tx, ev *event.Event) error {
		body, _ := json.Marshal(ev)
		ok, err := tx.PutEvent(ev, body, t0)
		got = append(got, ok)
		return err
	}
	write(t, st, func(tx *Tx) error {
		if err := put(tx, first); err != nil {
			return err
		}
		return put(tx, again)
	})
	write(t, st, func(tx *Tx) error { return put(tx, again) })
	if len(got) != 3 || !got[0] || got[1] || got[2] {
		t.Fatalf("inserted %v, want [true false false]", got)
	}
	if n, err := st.CountEvents(ctx); err != nil || n != 1 {
		t.Fatalf("%d events stored (%v), want 1", n, err)
	}
	ev, err := st.Event(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev.File.Path != "/tmp/x.csv" {
		t.Errorf("stored path %s, want the first delivery's /tmp/x.csv", ev.File.Path)
	}
}

func TestPutAlert(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	tx, err := st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	noPayload := newEvent(1)
	noPayload.Kind = event.KindAlert
	if ok, err := tx.PutAlert(noPayload, t0); ok || err == nil || !strings.Contains(err.Error(), noPayload.ID) {
		t.Errorf("alert without payload: inserted %v, error %v; want an error naming %s", ok, err, noPayload.ID)
	}
	tx.Rollback()

	al := newAlert("al-1", "dump", event.SeverityHigh, "b1-1", "b1-2")
	var inserted []bool
	for range 2 {
		write(t, st, func(tx *Tx) error {
			ok, err := tx.PutAlert(al, t0)
			inserted = append(inserted, ok)
			return err
		})
	}
	// A repeat of the id with other evidence links nothing new.
	other := newAlert("al-1", "dump", event.SeverityHigh, "b1-9")
	write(t, st, func(tx *Tx) error {
		ok, err := tx.PutAlert(other, t0)
		inserted = append(inserted, ok)
		return err
	})
	if len(inserted) != 3 || !inserted[0] || inserted[1] || inserted[2] {
		t.Fatalf("inserted %v, want [true false false]", inserted)
	}
	var links []string
	rows, err := st.db.Query(`SELECT event_id FROM alert_evidence WHERE alert_id = 'al-1' ORDER BY event_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		links = append(links, id)
	}
	rows.Close()
	if strings.Join(links, " ") != "b1-1 b1-2" {
		t.Errorf("evidence links %v, want b1-1 b1-2", links)
	}
	var sev int
	var severity string
	if err := st.db.QueryRow(`SELECT sev, severity FROM alerts WHERE id = 'al-1'`).Scan(&sev, &severity); err != nil {
		t.Fatal(err)
	}
	if severity != event.SeverityHigh || sev != event.SeverityRank(event.SeverityHigh) {
		t.Errorf("severity %s rank %d, want high rank %d", severity, sev, event.SeverityRank(event.SeverityHigh))
	}
}

// An alert is about the person of its process, else the person its rule
// grouped by: person, then login_user, then user.
func TestAlertPerson(t *testing.T) {
	for _, c := range []struct {
		name  string
		proc  *event.Process
		group map[string]string
		want  string
	}{
		{"process login user", &event.Process{User: "root", LoginUser: "mona", LoginUID: 1013}, map[string]string{"person": "ali"}, "mona"},
		{"process user", &event.Process{User: "mona"}, nil, "mona"},
		{"group person first", nil, map[string]string{"user": "u", "login_user": "l", "person": "p"}, "p"},
		{"group login_user", nil, map[string]string{"user": "u", "login_user": "l"}, "l"},
		{"group user", nil, map[string]string{"user": "u"}, "u"},
		{"nobody", nil, map[string]string{"host": "ws1"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := openStore(t)
			al := newAlert("al-1", "r", event.SeverityLow)
			al.Process, al.Alert.Group = c.proc, c.group
			putAlerts(t, st, t0, al)
			list, err := st.Alerts(context.Background(), AlertFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].Person != c.want {
				t.Fatalf("alerts %+v, want one about %q", list, c.want)
			}
		})
	}
}

// SeenAgent keeps the first sighting, the latest place and boot, and the
// latest heartbeat even when later messages are not heartbeats.
func TestSeenAgent(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	hb := &event.Event{ID: "b1-hb-1", Kind: event.KindHeartbeat, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1",
		Heartbeat: &event.Heartbeat{IntervalS: 10, Sensors: []string{"file"}}}
	write(t, st, func(tx *Tx) error {
		if err := tx.SeenAgent(hb, t0); err != nil {
			return err
		}
		return tx.SeenAgent(newEvent(1), t0.Add(time.Second))
	})
	moved := newEvent(1)
	moved.Site, moved.Host, moved.BootID = "manila", "ws9", "b2"
	write(t, st, func(tx *Tx) error { return tx.SeenAgent(moved, t0.Add(time.Minute)) })

	agents, err := st.Agents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(agents) != 1 {
		t.Fatalf("agents %+v, want ag-1 only", agents)
	}
	a := agents[0]
	if a.Site != "manila" || a.Host != "ws9" || a.BootID != "b2" {
		t.Errorf("agent at %s/%s boot %s, want manila/ws9 boot b2", a.Site, a.Host, a.BootID)
	}
	if !a.FirstSeen.Equal(t0) || !a.LastSeen.Equal(t0.Add(time.Minute)) || !a.LastHeartbeat.Equal(t0) {
		t.Errorf("first %v last %v heartbeat %v, want %v, %v, %v", a.FirstSeen, a.LastSeen, a.LastHeartbeat,
			t0, t0.Add(time.Minute), t0)
	}
	if a.Heartbeat == nil || a.Heartbeat.IntervalS != 10 || len(a.Heartbeat.Sensors) != 1 {
		t.Errorf("heartbeat %+v, want the stored one (interval 10 s, sensor file)", a.Heartbeat)
	}
	sites, err := st.Sites(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sites, " ") != "leeds manila" {
		t.Errorf("sites %v, want leeds and manila", sites)
	}
}

// What a batch writes is seen by readers only once it commits, and not at
// all when it rolls back.
func TestBatchIsAllOrNothing(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	for _, commit := range []bool{false, true} {
		tx, err := st.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ev := newEvent(1)
		body, _ := json.Marshal(ev)
		if _, err := tx.PutEvent(ev, body, t0); err != nil {
			t.Fatal(err)
		}
		if err := tx.SeenAgent(ev, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.PutAlert(newAlert("al-1", "r", event.SeverityLow, ev.ID), t0); err != nil {
			t.Fatal(err)
		}
		n, _ := st.CountEvents(ctx)
		agents, _ := st.Agents(ctx)
		if n != 0 || len(agents) != 0 {
			t.Fatalf("before commit, readers see %d events and %d agents", n, len(agents))
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
		n, _ = st.CountEvents(ctx)
		agents, _ = st.Agents(ctx)
		alerts, _ := st.Alerts(ctx, AlertFilter{})
		want := 0
		if commit {
			want = 1
		}
		if int(n) != want || len(agents) != want || len(alerts) != want {
			t.Fatalf("commit %v: %d events, %d agents, %d alerts; want %d of each", commit, n, len(agents), len(alerts), want)
		}
	}
}

// A batch whose context ends before its commit is not stored, though its
// statements run without that context.
func TestCancelledBatchIsNotStored(t *testing.T) {
	st := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	tx, err := st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ev := newEvent(1)
	if _, err := tx.PutEvent(ev, []byte(`{}`), t0); err != nil {
		t.Fatal(err)
	}
	cancel()
	testproc.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		if _, err := tx.PutEvent(newEvent(2), []byte(`{}`), t0); err == nil {
			return errors.New("the transaction still takes writes after its context ended")
		}
		return nil
	})
	if err := tx.Commit(); err == nil {
		t.Fatal("a batch whose context ended committed")
	}
	if n, err := st.CountEvents(context.Background()); err != nil || n != 0 {
		t.Fatalf("%d events stored (%v), want none", n, err)
	}
}

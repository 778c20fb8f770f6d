package store

import (
	"context"
	"errors"
	"testing"

	"github.com/vigilhq/vigil/event"
)

// A server-side statement stored as it came is updated in place once it
// is attributed: the body carries the attribution, the person column (what
// the API filters on) names the client's person, and arrival order stays.
func TestUpdateEventKeepsItsPlace(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ev := newEvent(1)
	ev.Kind, ev.File = event.KindDBQuery, nil
	ev.Process = &event.Process{PID: 900, User: "postgres", LoginUID: event.NoLoginUID}
	ev.DB = &event.DB{Engine: "postgresql", Side: "server", Client: "10.0.0.21:50432", Server: "10.0.0.5:5432", Rows: 1}
	putEvents(t, st, t0, ev, newEvent(2))

	ev.Attribution = &event.Attribution{Status: event.AttributionAttributed, Host: "ws-7", PID: 4242, Comm: "java",
		User: "nadia", LoginUID: 1201, LoginUser: "nadia"}
	write(t, st, func(tx *Tx) error { return tx.UpdateEvent(ev) })

	got, err := st.Event(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Attribution == nil || got.Attribution.Comm != "java" || got.Person() != "nadia" || got.DB.Client != ev.DB.Client {
		t.Fatalf("stored %+v attribution %+v, want the statement attributed to nadia's java", got, got.Attribution)
	}
	var person string
	var n int64
	if err := st.db.QueryRowContext(ctx, `SELECT person, n FROM events WHERE id = ?`, ev.ID).Scan(&person, &n); err != nil {
		t.Fatal(err)
	}
	if person != "nadia" || n != 1 {
		t.Fatalf("person column %q, n %d; want nadia, 1", person, n)
	}

	missing := newEvent(3)
	tx, err := st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.UpdateEvent(missing); !errors.Is(err, ErrNotFound) {
		t.Fatalf("updating an event not stored: %v, want ErrNotFound", err)
	}
}

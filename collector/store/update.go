package store

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/vigilhq/vigil/event"
)

// UpdateEvent rewrites a stored event's body and person from ev, keeping
// its place in arrival order: the collector sets what it learns of an
// event after storing it (a server-side statement's attribution). An event
// not stored (pruned, or its batch not committed) is an error.
func (t *Tx) UpdateEvent(ev *event.Event) error {
	body, err := event.AppendJSON(nil, ev)
	if err != nil {
		return fmt.Errorf("updating event %s: %w", ev.ID, err)
	}
	var n int64
	err = t.stmt(t.s.updateEvent).QueryRowContext(t.ctx, append(append([]any{ev.Person(), body}, eventMeasures(ev).values()...), ev.ID)...).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("updating event %s: %w", ev.ID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("updating event %s: %w", ev.ID, err)
	}
	return t.ch.add("events", OpUpdate, n)
}

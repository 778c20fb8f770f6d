package ingest

import (
	"context"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// A collector restart while statements wait: the store has them without a
// judgement, and the next collector holds them again and judges them when
// the report comes.
func TestRestartJudgesWhatWasHeld(t *testing.T) {
	dir := t.TempDir()
	r := newJoinRig(t, dir)
	// Stored by a collector that did not join (before an upgrade): left
	// alone.
	old := r.stmt("10.0.0.21:50432")
	tx, err := r.st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.PutEvent(old, msg(old).Data, t0.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r.handle(t, r.session("10.0.0.21:40000"))
	s1, s2, s3 := r.stmt("10.0.0.21:50432"), r.stmt("10.0.0.21:50432"), r.stmt("10.0.0.21:50432")
	r.handle(t, s1, s2, s3)
	r.st.Close()

	r2 := newJoinRig(t, dir)
	r2.seq = r.seq
	r2.now = r.now.Add(time.Minute)
	if n, err := r2.in.Warm(context.Background(), 24*time.Hour, 1000); err != nil || n != 5 {
		t.Fatalf("warmed %d events (%v), want 5", n, err)
	}
	if held := r2.in.join.Stats().Held; held != 3 {
		t.Fatalf("%d statements held after the restart, want 3", held)
	}
	r2.handle(t, r2.session("10.0.0.21:50432"))
	for _, s := range []*event.Event{s1, s2, s3} {
		if got, person := r2.stored(t, s.ID); !got.Attribution.Joined() || person != "nadia" {
			t.Fatalf("after the restart, %s attribution %+v person %q", s.ID, got.Attribution, person)
		}
	}
	if len(r2.alerts) != 1 || r2.alerts[0].Person() != "nadia" {
		t.Fatalf("alerts %+v, want one about nadia", r2.alerts)
	}
	if got, _ := r2.stored(t, old.ID); got.Attribution != nil {
		t.Fatalf("a statement stored two hours before the restart was judged: %+v", got.Attribution)
	}

	// A third collector warms from statements judged before: it holds
	// none of them again.
	r2.st.Close()
	r3 := newJoinRig(t, dir)
	r3.now = r2.now
	if _, err := r3.in.Warm(context.Background(), 24*time.Hour, 1000); err != nil {
		t.Fatal(err)
	}
	if held := r3.in.join.Stats().Held; held != 0 || len(r3.alerts) != 0 {
		t.Fatalf("after warming from judged statements: %d held, alerts %v", held, r3.alerts)
	}
}

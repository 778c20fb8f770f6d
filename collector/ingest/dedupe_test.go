package ingest

import (
	"context"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// An agent cannot store one of its seqs twice by giving the second copy
// another id: the id must be the one its boot and seq make.
func TestSameSeqUnderAnotherIDIsNotStoredTwice(t *testing.T) {
	in, st, m, _ := newIngest(t, nil)
	ctx := context.Background()
	first := ev("leeds", "ag-1", 1, event.KindFileWrite)
	again := ev("leeds", "ag-1", 1, event.KindFileWrite)
	again.ID = "b-ag-1-1-again"
	again.File.Path = "/tmp/other.csv"
	if err := in.Handle(ctx, []Msg{msg(first), msg(again)}); err != nil {
		t.Fatal(err)
	}
	ids, err := st.EventIDs(ctx, "ag-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[first.ID] != 1 {
		t.Fatalf("stored ids %v, want only %s", ids, first.ID)
	}
	if got := count(m, "malformed"); got != 1 {
		t.Fatalf("%d malformed counted, want the copy under another id", got)
	}
}

// An agent that takes another agent's boot id (so that its event ids are
// the other's) is refused, in the same batch or a later one, and the
// other agent's own events are still stored rather than dropped as
// duplicates; the SOC hears of it, since the forger's events are lost.
func TestAnotherAgentsBootIsRejected(t *testing.T) {
	for _, sameBatch := range []bool{false, true} {
		in, st, m, alerts := newIngest(t, nil)
		ctx := context.Background()
		victim := ev("leeds", "ag-1", 1, event.KindFileWrite)
		forged := ev("leeds", "ag-2", 2, event.KindFileWrite)
		forged.BootID, forged.ID = victim.BootID, event.MakeID(victim.BootID, 2)
		real := ev("leeds", "ag-1", 2, event.KindFileWrite)
		batches := [][]Msg{{msg(victim)}, {msg(forged)}, {msg(real)}}
		if sameBatch {
			batches = [][]Msg{{msg(victim), msg(forged), msg(real)}}
		}
		for _, b := range batches {
			if err := in.Handle(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		ids, err := st.EventIDs(ctx, "ag-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 2 || ids[real.ID] != 1 {
			t.Fatalf("same batch %v: ag-1's stored ids %v, want its two events", sameBatch, ids)
		}
		if forgedIDs, _ := st.EventIDs(ctx, "ag-2"); len(forgedIDs) != 0 {
			t.Fatalf("same batch %v: the forged event was stored: %v", sameBatch, forgedIDs)
		}
		if got := count(m, "rejected"); got != 1 {
			t.Fatalf("same batch %v: %d rejected, want 1", sameBatch, got)
		}
		if len(*alerts) != 1 || (*alerts)[0].Alert.Rule != liveness.RuleIdentity || (*alerts)[0].AgentID != "ag-2" ||
			!strings.Contains((*alerts)[0].Alert.Summary, victim.BootID) {
			t.Fatalf("same batch %v: alerts %v, want one %s about ag-2 naming the boot it took", sameBatch, *alerts, liveness.RuleIdentity)
		}
		if stored, err := st.Alerts(ctx, store.AlertFilter{Rule: liveness.RuleIdentity}); err != nil || len(stored) != 1 {
			t.Fatalf("same batch %v: stored identity alerts %v (%v), want 1", sameBatch, stored, err)
		}
	}
}

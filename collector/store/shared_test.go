package store

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// Two collectors sharing one store each store part of an agent's seqs, in
// whatever order their batches commit: a seq one of them stored is no gap
// to the other, a gap one recorded is filled by the other's late events,
// and both tell the agent the same watermark. On PostgreSQL the two write
// at once; SQLite is one collector's store, so there they take turns.
func TestTwoWritersShareOneAgentsSeqs(t *testing.T) {
	target := storeTarget(t)
	var sts [2]*Store
	for i := range sts {
		st, err := Open(target)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		sts[i] = st
	}
	ctx := context.Background()
	// Batches of five seqs, dealt to the writers out of order: each
	// writer's first batch leaves a gap below it that the other fills.
	const batches = 40
	order := make([]int, 0, batches)
	for b := 0; b < batches; b += 2 {
		order = append(order, b+1, b)
	}
	put := func(st *Store, b int) error {
		tx, err := st.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for seq := uint64(b*5 + 1); seq <= uint64(b*5+5); seq++ {
			ev := newEvent(seq)
			body, _ := json.Marshal(ev)
			if _, err := tx.PutEvent(ev, body, t0); err != nil {
				return err
			}
			if _, err := tx.TrackSeq(ev, t0); err != nil {
				return err
			}
		}
		return tx.Commit()
	}
	if onPostgres(t) {
		var wg sync.WaitGroup
		errs := make(chan error, batches)
		for w, st := range sts {
			wg.Go(func() {
				for i := w; i < len(order); i += 2 {
					if err := put(st, order[i]); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	} else {
		for i, b := range order {
			if err := put(sts[i%2], b); err != nil {
				t.Fatal(err)
			}
		}
	}
	const last = batches * 5
	for i, st := range sts {
		marks, err := st.Committed(ctx, "ag-1", []string{"b1"})
		if err != nil {
			t.Fatal(err)
		}
		if marks["b1"] != last {
			t.Errorf("writer %d tells the agent watermark %d, want %d; loss rows: %s", i, marks["b1"], last, lossRows(t, st))
		}
	}
	confirmed, err := sts[0].ConfirmGaps(ctx, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(confirmed) > 0 {
		t.Errorf("counted as lost: %+v", confirmed)
	}
	if rows := lossRows(t, sts[1]); rows != "" {
		t.Errorf("loss recorded where every seq was stored: %s", rows)
	}
}

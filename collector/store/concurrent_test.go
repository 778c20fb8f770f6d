package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
)

// The collector writes from several goroutines at once (ingest batches,
// triage, the audit of reads, confirmed gaps); each transaction reads the
// chain head once, so writers must take turns or two entries claim one
// seq. The store still verifies after them.
func TestConcurrentWritersKeepOneChain(t *testing.T) {
	target := storeTarget(t)
	st, err := Open(target)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	putAlerts(t, st, t0, newAlert("al-1", "csv_export", "high"))
	const writers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				ev := newEvent(uint64(w*each + i + 1))
				ev.ID = fmt.Sprintf("w%d-%d", w, i)
				body, _ := json.Marshal(ev)
				tx, err := st.Begin(ctx)
				if err != nil {
					errs <- err
					return
				}
				if _, err := tx.PutEvent(ev, body, t0); err != nil {
					tx.Rollback()
					errs <- err
					return
				}
				if err := tx.Commit(); err != nil {
					errs <- err
					return
				}
				if err := st.Audit(ctx, AuditEntry{At: t0, Actor: "ana", Action: "view_evidence", Target: "al-1"}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st.Close()
	if r := verify(t, target, nil, nil); !r.OK() || r.Rows != 1+writers*each*2 {
		t.Fatalf("after concurrent writers: %d rows, %v", r.Rows, r.Findings)
	}
}

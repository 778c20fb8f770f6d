package ingest

import (
	"context"
	"time"

	"github.com/vigilhq/vigil/collector/store"
)

// ConfirmGaps counts the gaps in agents' seqs that stayed open for
// GapGrace as loss: in the metric, and in the store, where they stop being
// pending. A gap filled by late events before then (an alert that
// overtook its events, a resend after a reconnection) is never counted.
func (in *Ingest) ConfirmGaps(ctx context.Context) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	gaps, err := in.o.Store.ConfirmGaps(ctx, in.o.Now().Add(-in.o.GapGrace))
	if err != nil {
		return err
	}
	for _, g := range gaps {
		in.o.Metrics.Lost.WithLabelValues(store.ReasonSeqGap).Add(float64(g.Count))
		in.o.Logger.Warn("events lost: a gap in the agent's seqs stayed open", "agent_id", g.AgentID, "boot_id", g.BootID,
			"from", g.FromSeq, "to", g.ToSeq, "count", g.Count, "grace", in.o.GapGrace)
	}
	return nil
}

// WatchGaps runs ConfirmGaps every every until ctx ends.
func (in *Ingest) WatchGaps(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := in.ConfirmGaps(ctx); err != nil && ctx.Err() == nil {
				in.o.Logger.Error("confirming gaps in agents' seqs", "err", err)
			}
		}
	}
}

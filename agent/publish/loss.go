package publish

import (
	"fmt"
	"time"

	"github.com/vigilhq/vigil/agent/publish/spool"
	"github.com/vigilhq/vigil/event"
)

// ReasonSpoolFull is the loss reason for events dropped from a full spool.
const ReasonSpoolFull = "spool_full"

// reportLoss turns records dropped from a full spool into agent.loss
// events, one per boot that numbered them, emitted through the agent when
// there is one.
func (p *Publisher) reportLoss() {
	for _, d := range p.sp.TakeDropped() {
		p.reportDrop(d)
	}
	if n := p.sp.UnconfirmedDropped(); n > p.unconfirmedDropped.Load() {
		// Not loss unless the server lost them too, which the collector
		// then counts as a gap in the seqs.
		if old := p.unconfirmedDropped.Swap(n); n > old {
			p.log.Warn("spool full: events JetStream acknowledged dropped before the collector confirmed them stored",
				"count", n-old, "total", n)
		}
	}
}

// reportDrop emits one loss record for d.
func (p *Publisher) reportDrop(d spool.Drop) {
	// count can include what earlier loss records carried when they were
	// dropped themselves before delivery (reported again); total is the
	// records dropped since the agent started.
	p.log.Warn("spool full: oldest events dropped", "count", d.Count, "total", p.sp.Lost(),
		"boot_id", d.Boot, "from_seq", d.From, "to_seq", d.To)
	ev := &event.Event{Time: time.Now().UTC(), Kind: event.KindAgentLoss,
		Loss: &event.Loss{Sensor: "spool", Count: d.Count, Reason: ReasonSpoolFull, BootID: d.Boot, FromSeq: d.From, ToSeq: d.To}}
	p.mu.Lock()
	src, boot := p.src, p.bootID
	p.mu.Unlock()
	if src != nil {
		src.Emit(ev)
		return
	}
	ev.Site, ev.Host, ev.AgentID, ev.BootID = p.opts.Site, p.opts.Host, p.opts.AgentID, boot
	// Not "boot-seq": the record has no seq for the collector's watermarks
	// to cover.
	ev.ID = fmt.Sprintf("%s-loss%d", boot, p.lossSeq.Add(1))
	if err := p.Publish(ev); err != nil {
		p.log.Error("spooling loss record", "err", err)
	}
}

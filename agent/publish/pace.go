package publish

import "time"

// Drained is called by a source that has handed over everything it has
// for now, before it sleeps: the agent calls it each time its reader finds
// the ring buffer empty. From the first call on, the publisher is paced by
// it: the sender goes when Drained finds events waiting and at least the
// linger has passed since it last woke the sender, and the spool is
// flushed here when the last flush is flushEvery old, so neither needs a
// timer of its own: one wakeup of the process per reader wakeup instead
// of three, and each wakeup from idle is what costs at a workstation's
// rates. A batch's worth and an alert still wake the sender at once, and
// the flusher's slower tick covers a source that stops calling.
func (p *Publisher) Drained() {
	p.paced.Store(true)
	now := p.since()
	if now-p.lastFlush.Load() >= int64(flushEvery) {
		p.flush(now)
	}
	p.pace(now, p.linger)
}

// since is the time since p.epoch in nanoseconds.
func (p *Publisher) since() int64 { return int64(time.Since(p.epoch)) }

// pace wakes the sender if events are waiting and it was last woken by
// pace at least gap ago.
func (p *Publisher) pace(now int64, gap time.Duration) {
	if p.pending.Load() > 0 && now-p.lastPace.Load() >= int64(gap) {
		p.lastPace.Store(now)
		p.poke()
	}
}

// flushEvery is how often buffered spool records and the cursor are
// saved, so a crash loses at most that much of either (and a lost cursor
// only resends).
const flushEvery = 200 * time.Millisecond

// pacedTick is the flusher's tick once Drained paces the publisher: it
// only covers a source that stopped calling Drained (a reader never idle
// under a flood), flushing and sending what a second left behind.
const pacedTick = time.Second

// flusher flushes the spool every flushEvery, or, once the publisher is
// paced, every pacedTick when Drained has not.
func (p *Publisher) flusher() {
	defer p.loops.Done()
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	paced := false
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		if !paced && p.paced.Load() {
			paced = true
			t.Reset(pacedTick)
		}
		now := p.since()
		if paced && now-p.lastFlush.Load() < int64(flushEvery) {
			continue
		}
		p.flush(now)
		if paced {
			p.pace(now, pacedTick)
		}
	}
}

// flush saves buffered spool records and the cursor and reports records a
// full spool dropped.
func (p *Publisher) flush(now int64) {
	p.lastFlush.Store(now)
	if err := p.sp.Flush(); err != nil {
		p.log.Error("flushing spool", "err", err)
	}
	p.reportLoss()
}

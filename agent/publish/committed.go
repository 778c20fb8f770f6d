package publish

import (
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/vigilhq/vigil/agent/publish/spool"
	"github.com/vigilhq/vigil/event"
)

// DefaultCommitTimeout is how long an acknowledged record may wait for the
// collector's watermark to cover it before the sender acts: resends from
// the first unconfirmed record if watermarks come but stay behind, or
// stops waiting for them if none come at all.
const DefaultCommitTimeout = 30 * time.Second

// unconfirmed is an acknowledged message the collector has not yet
// confirmed stored: where it ends in the spool, the boot and seq of its
// last record (seq 0: a record without one) and when it was acknowledged.
type unconfirmed struct {
	next spool.Pos
	boot string
	seq  uint64
	at   time.Time
}

// watermarks is what the collector said it has stored, per boot.
type watermarks struct {
	seen        bool              // a watermark came since the publisher started
	seq         map[string]uint64 // highest seq of each boot stored with all before it
	lastAdvance time.Time         // when a watermark last moved
	lastHeard   time.Time         // when a watermark last came
	fallback    bool              // none came in time: records leave the spool at their ack
	warned      bool              // the fallback was logged
}

// subscribeCommitted listens for the collector's watermarks on the
// agent's own subject. The subscription lives across reconnections.
func (p *Publisher) subscribeCommitted() error {
	if _, err := p.nc.Subscribe(event.CommittedSubject(p.opts.AgentID), p.onCommitted); err != nil {
		return err
	}
	if p.nc.IsConnected() {
		// The server has the subscription before the first publish.
		_ = p.nc.FlushTimeout(time.Second)
	}
	return nil
}

// onCommitted takes a watermark message: a JSON object of boot id to the
// highest seq stored with every seq before it.
func (p *Publisher) onCommitted(m *nats.Msg) {
	var marks map[string]uint64
	if err := json.Unmarshal(m.Data, &marks); err != nil {
		p.log.Warn("collector watermark refused", "subject", m.Subject, "err", err)
		return
	}
	p.markMu.Lock()
	w := &p.marks
	w.seen, w.lastHeard = true, time.Now()
	if w.fallback {
		p.log.Info("collector publishes watermarks again; acknowledged events stay in the spool until it stored them")
		w.fallback, w.warned = false, false
	}
	for boot, seq := range marks {
		if seq > w.seq[boot] {
			if w.seq == nil {
				w.seq = map[string]uint64{}
			}
			w.seq[boot] = seq
			w.lastAdvance = time.Now()
		}
	}
	p.markMu.Unlock()
	select {
	case p.marked <- struct{}{}:
	default:
	}
}

// acked moves the acknowledged messages e to the spool's acknowledged
// position, and on to the committed one when the collector publishes no
// watermarks.
func (s *sender) acked(es []inflight, now time.Time) {
	p := s.p
	p.sp.Ack(es[len(es)-1].next)
	p.markMu.Lock()
	fallback := p.marks.fallback
	p.markMu.Unlock()
	if fallback {
		s.unconfirmed = s.unconfirmed[:0]
		p.sp.Commit(es[len(es)-1].next)
		return
	}
	for _, e := range es {
		s.unconfirmed = append(s.unconfirmed, unconfirmed{next: e.next, boot: e.boot, seq: e.seq, at: now})
	}
}

// confirm commits the acknowledged messages the collector's watermarks
// cover, and acts on one left uncovered past CommitTimeout. It returns
// true to ask for a resend from the first unconfirmed record.
func (s *sender) confirm(now time.Time) (resend bool) {
	p := s.p
	if len(s.unconfirmed) == 0 {
		return false
	}
	p.markMu.Lock()
	defer p.markMu.Unlock()
	w := &p.marks
	done := 0
	for ; done < len(s.unconfirmed); done++ {
		u := s.unconfirmed[done]
		if !w.fallback && u.seq != 0 && w.seq[u.boot] < u.seq {
			break
		}
	}
	if done > 0 {
		p.sp.Commit(s.unconfirmed[done-1].next)
		n := copy(s.unconfirmed, s.unconfirmed[done:])
		s.unconfirmed = s.unconfirmed[:n]
	}
	if len(s.unconfirmed) == 0 || now.Sub(s.unconfirmed[0].at) < p.commitTimeout {
		return false
	}
	if !w.seen || now.Sub(w.lastHeard) >= 2*p.commitTimeout {
		// An older collector, or one behind a setup that does not pass
		// watermarks on, or none since a resend: waiting would resend
		// forever and keep the spool full, so the spool goes back to
		// forgetting at the ack until a watermark comes again.
		w.fallback = true
		if !w.warned {
			w.warned = true
			p.log.Warn("the collector publishes no watermark; events leave the spool once JetStream acknowledged them, and a power loss of the collector host can lose them",
				"waited", p.commitTimeout)
		}
		p.sp.Commit(s.unconfirmed[len(s.unconfirmed)-1].next)
		s.unconfirmed = s.unconfirmed[:0]
		return false
	}
	if now.Sub(w.lastAdvance) < p.commitTimeout {
		return false // the collector is behind but storing
	}
	// Watermarks come but stay behind what JetStream acknowledged: it
	// may have lost it, so it goes again.
	w.lastAdvance = now
	return true
}

// commitDue is when confirm next has something to decide: the oldest
// unconfirmed message's wait ends, or, when watermarks come, the latest
// one's too; zero when nothing waits.
func (s *sender) commitDue() time.Time {
	if len(s.unconfirmed) == 0 {
		return time.Time{}
	}
	due := s.unconfirmed[0].at
	p := s.p
	p.markMu.Lock()
	if p.marks.seen && p.marks.lastAdvance.After(due) {
		due = p.marks.lastAdvance
	}
	p.markMu.Unlock()
	return due.Add(p.commitTimeout)
}

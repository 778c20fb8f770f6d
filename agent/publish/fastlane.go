package publish

import "github.com/nats-io/nats.go/jetstream"

type fastState uint8

const (
	fastPending fastState = iota
	fastAcked
	fastFailed
)

// fastAlert is an alert published ahead of the spool order.
type fastAlert struct {
	id      string
	paf     jetstream.PubAckFuture
	state   fastState
	reached bool // the in-order send has come to it
}

// sendAlerts publishes the alerts spooled since the last round ahead of
// the spool order. One that cannot go now is left to the spool.
func (s *sender) sendAlerts() {
	p := s.p
	p.alertMu.Lock()
	s.alerts, p.alerts = p.alerts, s.alerts[:0]
	p.alertMu.Unlock()
	if len(s.alerts) == 0 {
		return
	}
	if !p.online() {
		// Their spooled copies go when it is.
		clear(s.alerts)
		return
	}
	pending := s.pruneFast()
	for i := range s.alerts {
		if pending >= alertSlack {
			break
		}
		paf, err := s.publish(&s.alerts[i])
		if err != nil {
			p.log.Debug("fast publish of an alert failed; it goes in spool order", "err", err)
			break
		}
		s.fast = append(s.fast, fastAlert{id: s.alerts[i].ID, paf: paf})
		pending++
	}
	clear(s.alerts)
}

func (f *fastAlert) update() {
	if f.state != fastPending {
		return
	}
	switch acked, err := poll(f.paf); {
	case acked:
		f.state = fastAcked
	case err != nil:
		f.state = fastFailed
	}
}

// pruneFast forgets fast-lane alerts nothing needs any more and returns how
// many still await their acks.
func (s *sender) pruneFast() (pending int) {
	kept := s.fast[:0]
	for _, f := range s.fast {
		f.update()
		switch {
		case f.state == fastPending:
			pending++
		case f.state == fastFailed || f.reached:
			continue
		}
		kept = append(kept, f)
	}
	clear(s.fast[len(kept):])
	s.fast = kept
	// Acked alerts the spool dropped before sending are never reached.
	if over := len(s.fast) - 4*alertSlack; over > 0 {
		kept = s.fast[:0]
		for _, f := range s.fast {
			if over > 0 && f.state == fastAcked {
				over--
				continue
			}
			kept = append(kept, f)
		}
		clear(s.fast[len(kept):])
		s.fast = kept
	}
	return pending
}

// reachAlert is called when the in-order send comes to alert id: it says
// whether the fast lane already had it acknowledged, so it need not go
// again.
func (s *sender) reachAlert(id string) bool {
	for i := range s.fast {
		f := &s.fast[i]
		if f.id == id && !f.reached {
			f.update()
			f.reached = true
			return f.state == fastAcked
		}
	}
	return false
}

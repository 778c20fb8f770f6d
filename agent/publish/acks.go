package publish

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigilhq/vigil/agent/publish/spool"
)

// reap commits the acknowledged head of the window; it returns the error
// of the first publish that failed.
func (s *sender) reap() (err error) {
	done := 0
	for ; done < len(s.window); done++ {
		e := &s.window[done]
		if !e.ok {
			if e.ok, err = poll(e.paf); !e.ok {
				break
			}
		}
	}
	if done > 0 {
		events := 0
		for _, e := range s.window[:done] {
			events += e.n
		}
		s.p.acked.Add(uint64(events))
		s.acked(s.window[:done], time.Now())
		n := copy(s.window, s.window[done:])
		clear(s.window[n:])
		s.window = s.window[:n]
	}
	return err
}

// ackOf returns the ack channel of entry i, or of the nearest
// unacknowledged one before it, to wait on; nil when there is none.
func (s *sender) ackOf(i int) (int, <-chan *jetstream.PubAck) {
	for ; i >= 0; i-- {
		if !s.window[i].ok {
			return i, s.window[i].paf.Ok()
		}
	}
	return 0, nil
}

// windowErr returns the error of a publish in the window that failed.
func (s *sender) windowErr() error {
	for _, e := range s.window {
		if e.ok {
			continue
		}
		select {
		case err := <-e.paf.Err():
			return err
		default:
		}
	}
	return nil
}

// waitAcks waits, with the window full, for a quarter of it to be
// acknowledged, so the window refills in batches.
func (s *sender) waitAcks() bool {
	return s.waitAck(len(s.window)/4, nil)
}

// waitAck waits for the ack of the window's i-th publish, a publish error,
// an alert, the stop or, if wake is not nil, a wake.
func (s *sender) waitAck(i int, wake <-chan struct{}) bool {
	p := s.p
	i, ack := s.ackOf(i)
	var commitDue <-chan time.Time
	if due := s.commitDue(); !due.IsZero() {
		s.timer.Reset(time.Until(due))
		defer s.timer.Stop()
		commitDue = s.timer.C
	}
	select {
	case <-p.stop:
		return false
	case <-p.marked:
	case <-commitDue:
	case <-wake:
		s.due = true
	case <-ack:
		s.window[i].ok = true
	case <-p.pubErr:
		if err := s.windowErr(); err != nil {
			_ = s.reap() // commit what was acknowledged before it; err is what fails
			return s.fail(err)
		}
	case <-p.urgent:
	}
	return true
}

// waitIdle waits for records to send, the newest publish's ack or an
// alert.
func (s *sender) waitIdle() bool {
	p := s.p
	p.idle.Store(true)
	defer p.idle.Store(false)
	if p.sp.HasAfter(s.rpos) { // appended before idle was seen
		return true
	}
	return s.waitAck(len(s.window)-1, p.wake)
}

// linger waits until the next batch is due, a batch's worth is appended or
// an alert comes.
func (s *sender) linger(until time.Time) bool {
	p := s.p
	s.timer.Reset(time.Until(until))
	defer s.timer.Stop()
	select {
	case <-p.stop:
		return false
	case <-s.timer.C:
	case <-p.wake:
	case <-p.urgent:
	}
	return true
}

// sleep waits d, or less if woken, publishing alerts that come meanwhile.
func (s *sender) sleep(d time.Duration) bool {
	p := s.p
	s.timer.Reset(d)
	defer s.timer.Stop()
	for {
		select {
		case <-p.stop:
			return false
		case <-s.timer.C:
			return true
		case <-p.wake:
			return true
		case <-p.urgent:
			s.sendAlerts()
		}
	}
}

// fail waits for outstanding acks to settle and starts again from the
// first unacknowledged record.
func (s *sender) fail(err error) bool {
	p := s.p
	p.retries.Add(1)
	p.log.Debug("publish failed; resending from the spool", "err", err)
	if !s.settle() {
		return false
	}
	s.rewind(p.sp.Acked())
	return s.sleep(time.Second)
}

// resend waits for outstanding acks to settle and starts again from the
// first record the collector has not confirmed stored.
func (s *sender) resend() bool {
	p := s.p
	p.rewinds.Add(1)
	p.log.Debug("resending what the collector has not confirmed stored", "unconfirmed", p.sp.Unconfirmed())
	if !s.settle() {
		return false
	}
	s.rewind(p.sp.Start())
	return true
}

// rewind makes the sender go on from at, forgetting the window and, when
// at is the first unconfirmed record, what it knew unconfirmed.
func (s *sender) rewind(at spool.Pos) {
	s.window = s.window[:0]
	if at == s.p.sp.Start() {
		s.unconfirmed = s.unconfirmed[:0]
	}
	s.rpos, s.behind = at, true
}

// settle waits for outstanding acks to settle and commits those that came;
// false when the publisher stops meanwhile.
func (s *sender) settle() bool {
	p := s.p
	settled := time.NewTimer(p.opts.AckTimeout + time.Second)
	defer settled.Stop()
wait:
	for {
		select {
		case <-p.js.PublishAsyncComplete():
			break wait
		case <-p.stop:
			return false
		case <-settled.C:
			break wait
		case <-p.urgent:
			s.sendAlerts()
		}
	}
	_ = s.reap() // commit what was acknowledged after all; the rest is resent
	return true
}

// poll says, without waiting, whether paf was acknowledged or else failed
// (err); it takes the ack or error from paf, so the caller must keep it.
func poll(paf jetstream.PubAckFuture) (acked bool, err error) {
	select {
	case <-paf.Ok():
		return true, nil
	default:
	}
	select {
	case err = <-paf.Err():
	default:
	}
	return false, err
}

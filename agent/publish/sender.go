package publish

import (
	"errors"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigilhq/vigil/agent/publish/spool"
	"github.com/vigilhq/vigil/event"
)

// inflight is one message in the window.
type inflight struct {
	next spool.Pos              // just after its last record
	paf  jetstream.PubAckFuture // nil: the fast lane had it acknowledged
	n    int                    // events it carries
	ok   bool                   // acknowledged
	boot string                 // boot of its records (a message holds one boot's)
	seq  uint64                 // seq of its last record; 0: none
}

// sender is the state of the send goroutine.
type sender struct {
	p        *Publisher
	rpos     spool.Pos // next record to send
	window   []inflight
	recs     []spool.Entry
	fast     []fastAlert
	alerts   []spool.Record
	lastSend time.Time
	// unconfirmed are the acknowledged messages the collector has not
	// yet confirmed stored, oldest first; reconnects is the publisher's
	// count when the sender last resent from the first of them.
	unconfirmed []unconfirmed
	reconnects  uint64
	behind      bool // the last read filled the window: do not linger
	due         bool // woken to send (paced: by Drained or a batch's worth)
	timer       *time.Timer

	// The events message being filled: body, how many events it holds,
	// the first one's id and where its last record ends.
	body      []byte
	bodyN     int
	bodyFirst string
	bodyNext  spool.Pos
	bodyBoot  string
	bodySeq   uint64
}

// send publishes the spool in order with at most MaxInFlight unacknowledged
// messages, runs of events several to a message, committing the spool as
// acks arrive. On any error it waits for outstanding acks to settle and
// resends from the first unacknowledged record: JetStream drops the repeats
// by Nats-Msg-Id, the collector by event id (a resent run may be cut into
// messages differently).
//
// When it keeps up, the sender lingers up to Config.Linger after a send
// before the next, so one wakeup and one write carry every event appended
// meanwhile. Alerts go at once.
func (p *Publisher) send() {
	defer close(p.stopped)
	s := &sender{p: p, rpos: p.sp.Start(), behind: true, timer: time.NewTimer(time.Hour), reconnects: p.reconnects.Load()}
	s.timer.Stop()
	for s.step() {
	}
}

// step does one round: publish alerts, take acks, send or wait. It returns
// false when the publisher stops.
func (s *sender) step() bool {
	p := s.p
	select {
	case <-p.stop:
		return false
	default:
	}
	if !p.online() {
		s.window = s.window[:0]
		if !s.sleep(time.Second) {
			return false
		}
		s.rewind(p.sp.Start())
		return true
	}
	if n := p.reconnects.Load(); n != s.reconnects {
		// The server may have restarted and lost what it acknowledged.
		s.reconnects = n
		return s.resend()
	}
	s.sendAlerts()
	if err := s.reap(); err != nil {
		return s.fail(err)
	}
	if s.confirm(time.Now()) {
		return s.resend()
	}
	room := p.cfg.MaxInFlight - len(s.window)
	if room <= 0 {
		return s.waitAcks()
	}
	now := time.Now()
	if p.paced.Load() {
		// Drained (or a batch's worth appended) wakes it when it is time
		// to send: it then sends whatever its own clock says, so one
		// wakeup of the reader is one send.
		if !s.behind && !s.due && p.pending.Load() < batchBytes {
			return s.waitAck(len(s.window)-1, p.wake)
		}
		s.due = false
	} else if until := s.lastSend.Add(p.linger); !s.behind && now.Before(until) && p.pending.Load() < batchBytes {
		return s.linger(until)
	}
	took, full, err := s.fill(room)
	var rerr *readError
	if errors.As(err, &rerr) {
		if errors.Is(rerr.err, spool.ErrClosed) {
			return false
		}
		p.log.Error("reading spool; skipping the rest of the segment", "err", rerr.err)
		s.rpos = p.sp.SkipSegment(rerr.at)
		if len(s.window) == 0 {
			p.sp.Commit(s.rpos)
		}
		return true
	}
	if err != nil {
		return s.fail(err)
	}
	if took > 0 {
		s.lastSend, s.behind = now, full
		if !s.behind {
			p.pending.Store(0)
		}
		return true
	}
	return s.waitIdle()
}

// readError is a spool read that failed at a record.
type readError struct {
	at  spool.Pos
	err error
}

func (e *readError) Error() string { return e.err.Error() }

// fill publishes the records from rpos on in at most room messages (window
// entries): each run of events records in as few messages as the limits
// allow, every other record alone, an alert the fast lane had acknowledged
// not at all. It returns how many records it took and whether it stopped
// at a full window with records left. An error is a publish that failed,
// or a *readError when the spool could not be read (what was read before
// it is published).
func (s *sender) fill(room int) (took int, full bool, err error) {
	p := s.p
	defer s.resetBody()
	used := 0 // window entries taken, the open events message included
	for {
		recs, next, rerr := p.sp.ReadBatch(s.rpos, readChunk, s.recs[:0])
		s.recs = recs
		for i := range recs {
			r := &recs[i]
			boot, seq := event.SplitID(r.ID)
			if r.Subject == p.subjEvents {
				if s.bodyN > 0 && (s.bodyN >= maxMsgEvents || len(s.body)+1+len(r.Data) > maxMsgBytes || boot != s.bodyBoot) {
					if err = s.flushBody(); err != nil {
						break
					}
				}
				if s.bodyN == 0 {
					if used == room {
						full = true
						break
					}
					used++
				}
				s.addBody(r, boot, seq)
				s.rpos = r.Next
				took++
				continue
			}
			if s.bodyN > 0 {
				if err = s.flushBody(); err != nil {
					break
				}
			}
			if used == room {
				full = true
				break
			}
			used++
			if r.Subject == p.subjAlerts && s.reachAlert(r.ID) {
				s.window = append(s.window, inflight{next: r.Next, n: 1, ok: true, boot: boot, seq: seq})
			} else {
				paf, perr := s.publish(&r.Record)
				if perr != nil {
					err = perr
					break
				}
				s.window = append(s.window, inflight{next: r.Next, paf: paf, n: 1, boot: boot, seq: seq})
			}
			s.rpos = r.Next
			took++
		}
		clear(recs) // hold no events longer than needed
		if err != nil || full {
			return took, full, err
		}
		if rerr != nil {
			s.rpos = next
			if err = s.flushBody(); err != nil {
				return took, false, err
			}
			return took, false, &readError{at: next, err: rerr}
		}
		if len(recs) < readChunk {
			return took, false, s.flushBody()
		}
		// More to read: an alert spooled meanwhile need not wait for it.
		select {
		case <-p.urgent:
			s.sendAlerts()
		default:
		}
	}
}

// addBody adds an events record to the message being filled. The data is
// copied: a record read from the file is only valid until the next read.
func (s *sender) addBody(r *spool.Entry, boot string, seq uint64) {
	if s.bodyN > 0 {
		s.body = append(s.body, '\n')
	} else {
		s.bodyFirst, s.bodyBoot = r.ID, boot
	}
	s.bodySeq = seq
	s.body = append(s.body, r.Data...)
	s.bodyN++
	s.bodyNext = r.Next
}

// flushBody publishes the events message being filled, if any.
func (s *sender) flushBody() error {
	if s.bodyN == 0 {
		return nil
	}
	id := s.bodyFirst
	if s.bodyN > 1 {
		id += "+" + strconv.Itoa(s.bodyN)
	}
	paf, err := s.publishData(s.p.subjEvents, id, s.body)
	n, boot, seq := s.bodyN, s.bodyBoot, s.bodySeq
	s.resetBody()
	if err != nil {
		return err
	}
	s.window = append(s.window, inflight{next: s.bodyNext, paf: paf, n: n, boot: boot, seq: seq})
	return nil
}

// resetBody empties the message being filled (dropping one left unsent
// after an error) and drops a buffer grown by big events.
func (s *sender) resetBody() {
	s.body, s.bodyN, s.bodyFirst, s.bodyBoot, s.bodySeq = s.body[:0], 0, "", "", 0
	if cap(s.body) > 2*maxMsgBytes {
		s.body = nil
	}
}

// publish sends one record as a message of its own.
func (s *sender) publish(r *spool.Record) (jetstream.PubAckFuture, error) {
	return s.publishData(r.Subject, r.ID, r.Data)
}

// publishData sends one message. nats.go copies the data into its write
// buffer before returning (and retries nothing itself: no retry attempts),
// so the data need not outlive the call.
func (s *sender) publishData(subj, id string, data []byte) (jetstream.PubAckFuture, error) {
	o := &outMsg{id: [1]string{id}}
	o.m = nats.Msg{Subject: subj, Data: data, Header: nats.Header{jetstream.MsgIDHeader: o.id[:]}}
	return s.p.js.PublishMsgAsync(&o.m, s.p.pubOpts...)
}

// outMsg is a message and its header value in one allocation.
type outMsg struct {
	m  nats.Msg
	id [1]string
}

package attribute

import (
	"slices"
	"time"

	"github.com/vigilhq/vigil/event"
)

// heldQueue is the statements waiting for their client end, oldest first,
// findable by connection and by id.
type heldQueue struct {
	q          []*held // arrival order; entries released early stay until they reach the head
	head       int
	byKey      map[connKey][]*held
	byID       map[string]*held
	overflowed uint64
}

type held struct {
	ev    *event.Event
	k     connKey
	since time.Time
	done  bool
}

func newHeldQueue() heldQueue {
	return heldQueue{byKey: map[connKey][]*held{}, byID: map[string]*held{}}
}

func (h *heldQueue) len() int { return len(h.byID) }

// add holds ev from now; when more than max are held, the oldest is let go
// and returned to be judged at once. An event held already (a batch
// delivered again) is not held twice.
func (h *heldQueue) add(ev *event.Event, now time.Time, max int) (early *event.Event) {
	if _, ok := h.byID[ev.ID]; ok {
		return nil
	}
	k, _ := dbKey(ev)
	e := &held{ev: ev, k: k, since: now}
	h.q = append(h.q, e)
	h.byKey[k] = append(h.byKey[k], e)
	h.byID[ev.ID] = e
	if h.len() <= max {
		return nil
	}
	h.overflowed++
	return h.pop()
}

// front holds evs ahead of every other statement and due at once (a zero
// since); one held already is not held twice.
func (h *heldQueue) front(evs []*event.Event) {
	var es []*held
	for _, ev := range evs {
		if _, ok := h.byID[ev.ID]; ok {
			continue
		}
		k, _ := dbKey(ev)
		e := &held{ev: ev, k: k}
		es = append(es, e)
		h.byKey[k] = append(h.byKey[k], e)
		h.byID[ev.ID] = e
	}
	if len(es) > 0 {
		h.q = append(es, h.q[h.head:]...)
		h.head = 0
	}
}

// due lets go of the oldest statement if it was held at or before cutoff.
func (h *heldQueue) due(cutoff time.Time) *event.Event {
	h.skipDone()
	if h.head == len(h.q) || h.q[h.head].since.After(cutoff) {
		return nil
	}
	return h.pop()
}

// pop lets go of the oldest statement held.
func (h *heldQueue) pop() *event.Event {
	h.skipDone()
	if h.head == len(h.q) {
		return nil
	}
	e := h.q[h.head]
	h.release(e)
	h.skipDone()
	return e.ev
}

// forKey returns the statements held for connection k, oldest first.
func (h *heldQueue) forKey(k connKey) []*event.Event {
	es := h.byKey[k]
	if len(es) == 0 {
		return nil
	}
	out := make([]*event.Event, len(es))
	for i, e := range es {
		out[i] = e.ev
	}
	return out
}

// remove lets go of the statement held by id: it was judged before its
// grace period ended, or another copy of it was.
func (h *heldQueue) remove(id string) {
	if e, ok := h.byID[id]; ok {
		h.release(e)
	}
}

func (h *heldQueue) release(e *held) {
	e.done = true
	delete(h.byID, e.ev.ID)
	es := slices.DeleteFunc(h.byKey[e.k], func(x *held) bool { return x == e })
	if len(es) == 0 {
		delete(h.byKey, e.k)
	} else {
		h.byKey[e.k] = es
	}
}

// skipDone moves the head past released entries, and compacts the queue
// once most of it is behind the head.
func (h *heldQueue) skipDone() {
	for h.head < len(h.q) && h.q[h.head].done {
		h.q[h.head] = nil
		h.head++
	}
	if h.head > 1024 && h.head > len(h.q)/2 {
		h.q = append(h.q[:0], h.q[h.head:]...)
		h.head = 0
	}
}

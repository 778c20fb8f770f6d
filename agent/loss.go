package agent

import (
	"time"

	"github.com/vigilhq/vigil/event"
)

// Stats are the agent's counters.
type Stats struct {
	Events      uint64
	KernelDrops map[string]uint64 // by sensor, all reasons
	Malformed   uint64
}

// Stats returns the agent's counters.
func (a *Agent) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := Stats{Events: a.published, KernelDrops: map[string]uint64{}}
	for name, d := range a.lastDrops {
		for _, n := range d {
			st.KernelDrops[name] += n
		}
	}
	if a.set != nil {
		st.Malformed = a.set.Malformed()
	}
	return st
}

func (a *Agent) watchLoss(done <-chan struct{}) {
	t := time.NewTicker(a.opts.LossEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			a.checkLoss()
		}
	}
}

// checkLoss emits an agent.loss event for every counter that rose.
func (a *Agent) checkLoss() {
	a.mu.Lock()
	set := a.set
	a.mu.Unlock()
	if set == nil {
		return
	}
	now := set.Drops()
	for name, d := range now {
		for reason, n := range d {
			a.mu.Lock()
			prev := a.lastDrops[name][reason]
			a.mu.Unlock()
			if n > prev {
				a.Emit(&event.Event{Time: time.Now().UTC(), Kind: event.KindAgentLoss,
					Loss: &event.Loss{Sensor: name, Count: n - prev, Reason: reason}})
			}
		}
	}
	a.mu.Lock()
	a.lastDrops = now
	a.mu.Unlock()
	a.checkGaveUp()
}

// checkGaveUp emits an agent.loss event for every kind of database
// connection the trackers gave up on since the last check (from then on
// its statements are lost, like the records of a kernel drop) and one for
// the prepared statements they forgot to stay within their bounds.
func (a *Agent) checkGaveUp() {
	now := a.db.GaveUp()
	for reason, n := range now {
		if prev := a.lastGaveUp[reason]; n > prev {
			a.Emit(&event.Event{Time: time.Now().UTC(), Kind: event.KindAgentLoss,
				Loss: &event.Loss{Sensor: "db", Count: n - prev, Reason: "parser_gave_up_" + reason}})
		}
	}
	a.lastGaveUp = now
	if n := a.db.Evicted(); n > a.lastEvicted {
		a.Emit(&event.Event{Time: time.Now().UTC(), Kind: event.KindAgentLoss,
			Loss: &event.Loss{Sensor: "db", Count: n - a.lastEvicted, Reason: "statements_evicted"}})
		a.lastEvicted = n
	}
}

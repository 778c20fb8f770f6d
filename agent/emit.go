package agent

import (
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/event"
)

// handle gives one kernel record to the stage that makes its events, and
// emits them.
func (a *Agent) handle(rec any) {
	switch r := rec.(type) {
	case *db.Data:
		a.mu.Lock()
		a.emitDBLocked(a.db.Data(r))
		a.mu.Unlock()
	case *db.Close:
		a.mu.Lock()
		a.emitDBLocked(a.db.Close(r))
		a.mu.Unlock()
	case *db.UnixEnds:
		a.db.Unix(r)
	default:
		if ev := a.conv.Record(rec); ev != nil {
			a.Emit(ev)
		}
	}
}

// closeDB takes the closes of database connections a sensor found on its
// own schedule.
func (a *Agent) closeDB(closes []*db.Close) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range closes {
		a.emitDBLocked(a.db.Close(c))
	}
}

// emitDBLocked emits what the database stage returned, in its order.
func (a *Agent) emitDBLocked(evs []*event.Event) {
	for _, ev := range evs {
		a.emitEvalLocked(ev)
	}
}

// emitAll emits events from a stage other than the database's.
func (a *Agent) emitAll(evs []*event.Event) {
	for _, ev := range evs {
		a.Emit(ev)
	}
}

// Emit stamps ev with the agent's identity and the next sequence number,
// publishes it and runs the host rules over it, publishing their alerts.
// Statement runs that the database stage holds for ev's process are
// published before it, so rules see a read before the write that follows.
func (a *Agent) Emit(ev *event.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ev.Process != nil {
		a.emitDBLocked(a.db.Before(ev.Process.PID))
	}
	a.emitEvalLocked(ev)
}

// emitEvalLocked publishes ev and runs the host rules over it.
func (a *Agent) emitEvalLocked(ev *event.Event) {
	a.emitLocked(ev)
	if a.opts.Rules == nil {
		return
	}
	for _, al := range a.opts.Rules.Process(ev) {
		if al.Time.IsZero() {
			al.Time = ev.Time
		}
		a.emitLocked(&al)
	}
}

func (a *Agent) emitLocked(ev *event.Event) {
	a.seq++
	ev.Seq = a.seq
	ev.BootID = a.bootID
	ev.ID = event.MakeID(a.bootID, a.seq)
	ev.Site, ev.Host, ev.AgentID = a.opts.Site, a.opts.Host, a.opts.AgentID
	if len(a.opts.Labels) > 0 {
		ev.Labels = a.opts.Labels
	}
	if err := a.opts.Sink.Publish(ev); err != nil {
		a.opts.Logger.Error("publishing event", "id", ev.ID, "err", err)
	}
	a.published++
}

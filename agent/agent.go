// Package agent is vigil's host agent: it reads the sensors' records, turns
// them into events attributed to processes and people, runs host rules over
// them and hands events and alerts to a sink (stdout or the collector).
package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/vigilhq/vigil/agent/enrich"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/event"
)

// Sink receives every event and alert the agent produces, in sequence order.
type Sink interface {
	Publish(ev *event.Event) error
}

// A Drainer is a Sink told when the agent has handed it everything read
// so far and its reader is about to sleep: the publisher sends and flushes
// then, instead of waking on timers of its own.
type Drainer interface {
	Drained()
}

// RuleEngine evaluates host rules; the agent feeds it every event and emits
// the alerts it returns.
type RuleEngine interface {
	Process(ev *event.Event) []event.Event
}

// Identity names the agent in every event.
type Identity struct {
	Site    string
	Host    string
	AgentID string
	Labels  map[string]string
}

// Options configure an Agent.
type Options struct {
	Identity
	Sensors []sensor.Sensor
	Sink    Sink
	// Rules may be nil: no host rules.
	Rules RuleEngine
	// LossEvery is how often kernel loss counters are checked. Zero: 1 s.
	LossEvery time.Duration
	// RingBytes sizes the shared ring buffer (0: 8 MiB).
	RingBytes uint32
	Logger    *slog.Logger
	// DB configures database capture (used when a db sensor runs).
	DB DBOptions
	// Started, if set, is called once the sensors run.
	Started func(statuses []sensor.Status)
	// Pipeline, if set, names the NATS server on this host whose activity
	// the sensors ignore.
	Pipeline *Pipeline
}

// Agent turns kernel records into events.
type Agent struct {
	opts   Options
	bootID string
	clock  enrich.Clock
	users  *enrich.Users
	procs  *enrich.Table
	mounts *enrich.Mounts
	recent *recentPaths
	db     *dbConns
	// shared hands out descriptions that events share (the reader's).
	shared shared

	// folds (nil when folding is off) and its timer are guarded by mu.
	folds       *dbFolds
	foldTimer   *time.Timer
	foldAt      time.Time // when foldTimer fires; zero when not armed
	foldStopped bool

	mu        sync.Mutex
	seq       uint64
	set       *sensor.Set
	lastDrops map[string]map[string]uint64
	published uint64
}

// New returns an agent; Run starts it.
func New(opts Options) *Agent {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.LossEvery == 0 {
		opts.LossEvery = time.Second
	}
	users := enrich.NewUsers()
	clock := enrich.NewClock()
	procs := enrich.NewTable(users, clock)
	procs.SetScrubber(enrich.NewArgScrubber(opts.DB.Redactor))
	a := &Agent{
		opts: opts, bootID: newBootID(), clock: clock, users: users,
		procs: procs, mounts: enrich.NewMounts(),
		recent: newRecentPaths(4096), lastDrops: map[string]map[string]uint64{},
		db: newDBConns(opts.DB, opts.Logger),
	}
	if opts.DB.FoldWindow > 0 {
		a.folds = newDBFolds(opts.DB.FoldWindow)
	}
	return a
}

// newBootID names this run of the agent; seq restarts from 1 under it.
func newBootID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// BootID returns the id of this run.
func (a *Agent) BootID() string { return a.bootID }

// Run starts the sensors and processes records until ctx ends, then detaches
// every probe. It fails only when no sensor can start.
func (a *Agent) Run(ctx context.Context) error {
	sopts := sensor.Options{AgentPID: uint32(os.Getpid()), RingBytes: a.opts.RingBytes}
	if a.opts.Pipeline != nil {
		sopts.PipelinePID = a.opts.Pipeline.current()
	}
	if d, ok := a.opts.Sink.(Drainer); ok {
		sopts.Idle = d.Drained
	}
	set, err := sensor.Start(a.opts.Sensors, sopts)
	if err != nil {
		if set != nil {
			for _, st := range set.Statuses() {
				a.opts.Logger.Error("sensor cannot run", "sensor", st.Name, "reason", st.Error)
			}
		}
		return err
	}
	a.mu.Lock()
	a.set = set
	a.mu.Unlock()
	if a.opts.Pipeline != nil {
		a.opts.Pipeline.attach(set)
	}
	for _, st := range set.Statuses() {
		if st.Running {
			args := []any{"sensor", st.Name}
			if st.Build != "" {
				args = append(args, "build", st.Build)
			}
			a.opts.Logger.Info("sensor running", args...)
		} else {
			a.opts.Logger.Warn("sensor cannot run", "sensor", st.Name, "reason", st.Error)
		}
	}
	if err := a.procs.Seed(); err != nil {
		a.opts.Logger.Warn("seeding process table from /proc", "err", err)
	}
	if a.opts.Started != nil {
		a.opts.Started(set.Statuses())
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.watchLoss(done)
	}()
	// Sensors that deliver on their own schedule stop (with a last
	// delivery) before the ring buffer closes.
	periodic, stopPeriodic := context.WithCancel(context.Background())
	var pwg sync.WaitGroup
	for _, sn := range a.opts.Sensors {
		if !slices.Contains(set.Running(), sn.Name()) {
			continue
		}
		if u, ok := sn.(udpRunner); ok {
			pwg.Add(1)
			go func() {
				defer pwg.Done()
				if err := u.RunUDP(periodic, a.udp); err != nil {
					a.opts.Logger.Error("draining UDP totals", "err", err)
				}
			}()
		}
		if sw, ok := sn.(sweeper); ok {
			pwg.Add(1)
			go func() {
				defer pwg.Done()
				if err := sw.RunSweep(periodic, a.sweptFiles); err != nil {
					a.opts.Logger.Error("sweeping idle files", "err", err)
				}
			}()
		}
	}
	// Shutting down: periodic deliveries make their last one, the kernel's
	// loss counters are read a last time, the probes are detached, and then
	// the records still in the ring buffer are read before it closes.
	go func() {
		<-ctx.Done()
		stopPeriodic()
		pwg.Wait()
		close(done)
		wg.Wait()
		a.checkLoss()
		set.Shutdown()
	}()

	defer set.Close()
	if a.opts.Pipeline != nil {
		// Before the set closes (defers run last first): a disconnection
		// afterwards must not write to its closed map.
		defer a.opts.Pipeline.attach(nil)
	}
	for {
		r, err := set.Read()
		if err != nil {
			a.stopFolds()
			if errors.Is(err, sensor.ErrDrained) {
				return nil
			}
			return fmt.Errorf("reading sensor records: %w", err)
		}
		a.handle(r)
	}
}

// Sensors reports which sensors run (nil before Run starts them).
func (a *Agent) Sensors() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.set == nil {
		return nil
	}
	return a.set.Running()
}

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
	now := map[string]map[string]uint64{}
	for name, d := range set.Drops() {
		now[name] = d
	}
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
}

// Emit stamps ev with the agent's identity and the next sequence number,
// publishes it and runs the host rules over it, publishing their alerts.
// Statement runs its process's folds hold are reported before it.
func (a *Agent) Emit(ev *event.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.folds != nil && ev.Process != nil && len(a.folds.holding) > 0 {
		a.folds.flushProcess(ev.Process.PID, a.emitEvalLocked)
	}
	a.emitEvalLocked(ev)
}

// emitStatement emits one run of a statement on connection sock, d at ts
// by proc, folding repeats when folding is on. A run folded into a window
// that holds runs already makes no event of its own (most runs of a busy
// client's statements); otherwise the event gets copies of d and proc, which
// the caller may reuse.
func (a *Agent) emitStatement(sock uint64, d *event.DB, ts time.Time, proc *event.Process) {
	if a.folds == nil {
		a.Emit(statementEvent(d, ts, proc))
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.foldStopped {
		a.emitEvalLocked(statementEvent(d, ts, proc))
		return
	}
	a.folds.expire(ts, a.emitEvalLocked)
	if !a.folds.into(sock, d, ts, proc) {
		a.folds.add(sock, statementEvent(d, ts, proc), a.emitEvalLocked)
	}
	a.armFoldsLocked()
}

// statementEvent is the db.query event of one run: d at ts by proc, copied.
func statementEvent(d *event.DB, ts time.Time, proc *event.Process) *event.Event {
	dc, pc := *d, *proc
	return &event.Event{Time: ts, Kind: event.KindDBQuery, Process: &pc, DB: &dc}
}

// flushFoldsConn reports the runs folded for a connection that closed.
func (a *Agent) flushFoldsConn(sock uint64) {
	if a.folds == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.folds.flushConn(sock, a.emitEvalLocked)
}

// armFoldsLocked sets the timer that ends fold windows when no further
// record arrives to end them. It fires a tenth of a window late so one
// wakeup ends the windows that close together.
func (a *Agent) armFoldsLocked() {
	if !a.foldAt.IsZero() {
		return // armed; foldTick arms it again
	}
	at, ok := a.folds.next()
	if !ok {
		return
	}
	a.foldAt = at.Add(a.folds.window / 10)
	if a.foldTimer == nil {
		a.foldTimer = time.AfterFunc(time.Until(a.foldAt), a.foldTick)
		return
	}
	a.foldTimer.Reset(time.Until(a.foldAt))
}

func (a *Agent) foldTick() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.foldAt = time.Time{}
	if a.foldStopped {
		return
	}
	a.folds.expire(time.Now(), a.emitEvalLocked)
	a.armFoldsLocked()
}

// stopFolds reports every folded run: the agent is stopping.
func (a *Agent) stopFolds() {
	if a.folds == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.foldStopped = true
	if a.foldTimer != nil {
		a.foldTimer.Stop()
	}
	a.folds.flushAll(a.emitEvalLocked)
}

// emitEvalLocked publishes ev and runs the host rules over it.
func (a *Agent) emitEvalLocked(ev *event.Event) {
	a.emitLocked(ev)
	if a.opts.Rules == nil {
		return
	}
	for _, al := range a.opts.Rules.Process(ev) {
		al := al
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

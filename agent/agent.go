package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/vigilhq/vigil/agent/convert"
	"github.com/vigilhq/vigil/agent/dbconn"
	"github.com/vigilhq/vigil/agent/enrich"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
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

// A Spooler is a Sink that keeps events on disk until they are delivered:
// heartbeats report how many wait and how many it dropped when full.
type Spooler interface {
	Spool() (depth, dropped uint64)
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
	// Version is the agent's, for heartbeats.
	Version string
	Sensors []sensor.Sensor
	Sink    Sink
	// Rules may be nil: no host rules.
	Rules RuleEngine
	// RuleSetHash, if set, names the host rule set running, for heartbeats.
	RuleSetHash func() string
	// LossEvery is how often kernel loss counters are checked. Zero: 1 s.
	LossEvery time.Duration
	// RingBytes sizes the shared ring buffer (0: 8 MiB).
	RingBytes uint32
	Logger    *slog.Logger
	// DB configures database capture (used when a db sensor runs).
	DB dbconn.Options
	// Started, if set, is called once the sensors run, on a goroutine of
	// its own while their records are read.
	Started func(statuses []sensor.Status)
	// NATSServer, if set, finds the NATS server on this host that the
	// agent publishes to, whose activity the sensors ignore.
	NATSServer *NATSServer
	// HostShutdown says, at stop, whether the host is shutting down and
	// what said so. Nil: ShutdownCheck{}.ShuttingDown.
	HostShutdown func() (bool, string)
	// SelfCheckDir is where each heartbeat's canary writes (sensor.Set's
	// Canary), in the state directory; empty: no canary runs.
	SelfCheckDir string
}

// Agent turns kernel records into events.
type Agent struct {
	opts   Options
	bootID string
	procs  *enrich.Table
	conv   *convert.Converter
	db     *dbconn.Conns
	self   *selfStats

	// mu orders events: each is numbered and published, and the alerts
	// rules raise on it follow it, under mu.
	mu        sync.Mutex
	seq       uint64
	set       *sensor.Set
	lastDrops map[string]map[string]uint64
	// lastGaveUp is the database trackers' give-ups last reported, by
	// reason.
	lastGaveUp map[string]uint64
	// lastEvicted is the trackers' evictions last reported.
	lastEvicted uint64
	published   uint64
}

// New returns an agent; Run starts it.
func New(opts Options) *Agent {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.LossEvery == 0 {
		opts.LossEvery = time.Second
	}
	if opts.DB.Logger == nil {
		opts.DB.Logger = opts.Logger
	}
	users := enrich.NewUsers()
	clock := enrich.NewClock()
	procs := enrich.NewTable(enrich.HostPaths, users, clock)
	procs.SetScrubber(enrich.NewArgScrubber(opts.DB.Redactor))
	return &Agent{
		opts: opts, bootID: event.NewBootID(), procs: procs,
		conv: convert.New(procs, clock, enrich.NewMounts(enrich.HostPaths)),
		db:   dbconn.New(opts.DB, procs, clock),
		self: newSelfStats(opts.Logger), lastDrops: map[string]map[string]uint64{},
	}
}

// BootID returns the id of this run.
func (a *Agent) BootID() string { return a.bootID }

// udpRunner is a sensor that hands over UDP totals on its own schedule.
type udpRunner interface {
	RunUDP(ctx context.Context, emit func([]sensor.UDP)) error
}

// sweeper is a sensor that reports idle files on its own schedule.
type sweeper interface {
	RunSweep(ctx context.Context, emit func([]*sensor.FileWrite)) error
}

// closer is a sensor that finds closed database connections on its own
// schedule (Unix-domain ones, whose close no program sees).
type closer interface {
	RunCloses(ctx context.Context, emit func([]*db.Close)) error
}

// Run starts the sensors and processes records until ctx ends, then detaches
// every probe. It fails only when no sensor can start.
func (a *Agent) Run(ctx context.Context) error {
	set, err := a.start()
	if err != nil {
		return err
	}
	if err := a.procs.Seed(); err != nil {
		a.opts.Logger.Warn("seeding process table from /proc", "err", err)
	}
	if a.opts.Started != nil {
		// Records are read while it runs: it may wait out the scan of every
		// running process for TLS libraries, and the ring would fill unread.
		go a.opts.Started(set.Statuses())
	}

	// Loss is watched until shutdown, fold windows end until the ring is
	// drained.
	lossDone, foldsDone := make(chan struct{}), make(chan struct{})
	var lossWG, foldsWG sync.WaitGroup
	lossWG.Go(func() { a.watchLoss(lossDone) })
	foldsWG.Go(func() { a.endFolds(foldsDone) })
	// Sensors that deliver on their own schedule stop (with a last
	// delivery) before the ring buffer closes.
	periodic, stopPeriodic := context.WithCancel(context.Background())
	var pwg sync.WaitGroup
	for _, sn := range a.opts.Sensors {
		if !slices.Contains(set.Running(), sn.Name()) {
			continue
		}
		if u, ok := sn.(udpRunner); ok {
			pwg.Go(func() {
				if err := u.RunUDP(periodic, func(t []sensor.UDP) { a.emitAll(a.conv.UDP(t)) }); err != nil {
					a.opts.Logger.Error("draining UDP totals", "err", err)
				}
			})
		}
		if cl, ok := sn.(closer); ok {
			pwg.Go(func() {
				if err := cl.RunCloses(periodic, a.closeDB); err != nil {
					a.opts.Logger.Error("sweeping closed database connections", "err", err)
				}
			})
		}
		if sw, ok := sn.(sweeper); ok {
			pwg.Go(func() {
				if err := sw.RunSweep(periodic, func(f []*sensor.FileWrite) { a.emitAll(a.conv.Files(f)) }); err != nil {
					a.opts.Logger.Error("sweeping idle files", "err", err)
				}
			})
		}
	}
	// Shutting down: periodic deliveries make their last one, the kernel's
	// loss counters are read a last time, the probes are detached, and then
	// the records still in the ring buffer are read before it closes.
	go func() {
		<-ctx.Done()
		stopPeriodic()
		pwg.Wait()
		close(lossDone)
		lossWG.Wait()
		a.checkLoss()
		if err := set.Shutdown(); err != nil {
			a.opts.Logger.Warn("detaching the sensors", "err", err)
		}
	}()

	defer set.Close()
	if a.opts.NATSServer != nil {
		// Before the set closes (defers run last first): a disconnection
		// afterwards must not write to its closed map.
		defer a.opts.NATSServer.attach(nil)
	}
	for {
		r, err := set.Read()
		if err != nil {
			close(foldsDone)
			foldsWG.Wait()
			a.emitAll(a.db.Stop())
			if errors.Is(err, sensor.ErrDrained) {
				return nil
			}
			return fmt.Errorf("reading sensor records: %w", err)
		}
		a.handle(r)
	}
}

// start starts the sensors and logs which run.
func (a *Agent) start() (*sensor.Set, error) {
	sopts := sensor.Options{AgentPID: uint32(os.Getpid()), RingBytes: a.opts.RingBytes}
	if a.opts.NATSServer != nil {
		// Before any program runs: a server found meanwhile is then set
		// in the kernel at once, never after its activity was seen.
		sopts.Created = func(set *sensor.Set) { a.opts.NATSServer.attach(set) }
	}
	if d, ok := a.opts.Sink.(Drainer); ok {
		sopts.Idle = d.Drained
	}
	set, err := sensor.Start(a.opts.Sensors, sopts)
	if err != nil {
		if a.opts.NATSServer != nil {
			a.opts.NATSServer.attach(nil)
		}
		if set != nil {
			for _, st := range set.Statuses() {
				a.opts.Logger.Error("sensor cannot run", "sensor", st.Name, "reason", st.Error)
			}
		}
		return nil, err
	}
	a.mu.Lock()
	a.set = set
	a.mu.Unlock()
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
	return set, nil
}

// endFolds publishes the statement runs of fold windows that end with no
// record to end them.
func (a *Agent) endFolds(done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-a.db.Due():
			a.mu.Lock()
			for _, ev := range a.db.Expire(time.Now()) {
				a.emitEvalLocked(ev)
			}
			a.mu.Unlock()
		}
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

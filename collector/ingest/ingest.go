// Package ingest reads the agents' messages from the collector's durable
// JetStream consumer and stores them: malformed, oversized and misattributed
// messages are counted and skipped, duplicates are dropped by event id,
// gaps in an agent's seq are recorded as loss, correlation rules run over
// every new event and alert, and heartbeats feed the liveness tracker.
// A batch is committed to the store before its messages are acknowledged,
// so a crash at any point redelivers and nothing is stored twice.
package ingest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/collector/metrics"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// Correlator runs correlation rules; *correlate.Engine implements it.
type Correlator interface {
	Process(ev *event.Event) []event.Event
}

// Msg is one message as read from JetStream.
type Msg struct {
	Subject string
	Data    []byte
}

// Options configure an Ingest.
type Options struct {
	Store       *store.Store
	Correlation Correlator // may be nil
	Liveness    *liveness.Tracker
	Metrics     *metrics.Metrics
	Logger      *slog.Logger
	// OnAlert is called for each newly stored alert after its batch commits.
	OnAlert func(al *event.Event)
	// Batch is the most messages stored in one transaction. Default 500.
	Batch int
	Now   func() time.Time
}

// Ingest is the collector's ingest loop.
type Ingest struct {
	o  Options
	mu sync.Mutex // one batch at a time: correlation state follows store order
}

// New returns an Ingest.
func New(o Options) *Ingest {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Liveness == nil {
		o.Liveness = liveness.New(liveness.Options{})
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New(nil)
	}
	return &Ingest{o: o}
}

// Run fetches from the consumer and stores until ctx ends.
func (in *Ingest) Run(ctx context.Context, cons jetstream.Consumer) error {
	for ctx.Err() == nil {
		batch, err := cons.Fetch(in.o.Batch, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			in.o.Logger.Warn("fetching from JetStream", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoHeartbeat) && ctx.Err() == nil && len(msgs) == 0 {
			in.o.Logger.Debug("fetch ended", "err", err)
		}
		if len(msgs) == 0 {
			continue
		}
		raw := make([]Msg, len(msgs))
		for i, m := range msgs {
			raw[i] = Msg{Subject: m.Subject(), Data: m.Data()}
		}
		if err := in.Handle(ctx, raw); err != nil {
			// Not acknowledged: JetStream redelivers after AckWait, and
			// the store drops what was stored.
			in.o.Metrics.StoreErrors.Inc()
			in.o.Logger.Error("storing batch; it will be redelivered", "err", err, "messages", len(raw))
			for _, m := range msgs {
				m.NakWithDelay(5 * time.Second)
			}
			sleep(ctx, time.Second)
			continue
		}
		for _, m := range msgs {
			if err := m.Ack(); err != nil {
				in.o.Logger.Debug("ack", "err", err)
			}
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Handle stores one batch in one transaction. It returns an error only when
// the store fails; bad messages are counted and skipped.
func (in *Ingest) Handle(ctx context.Context, msgs []Msg) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	start := time.Now()
	now := in.o.Now().UTC()
	tx, err := in.o.Store.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	m := in.o.Metrics
	var alerts []*event.Event
	source := map[*event.Event]string{}
	putAlert := func(al *event.Event, src string) error {
		ok, err := tx.PutAlert(al, now)
		if ok {
			alerts = append(alerts, al)
			source[al] = src
		}
		return err
	}
	for _, msg := range msgs {
		if len(msg.Data) > event.MaxWireSize {
			m.Messages.WithLabelValues("oversized").Inc()
			in.o.Logger.Warn("oversized message skipped", "subject", msg.Subject, "bytes", len(msg.Data))
			continue
		}
		site, agentID, class, err := event.ParseSubject(msg.Subject)
		if err != nil {
			m.Messages.WithLabelValues("malformed").Inc()
			in.o.Logger.Warn("message on an unknown subject skipped", "subject", msg.Subject)
			continue
		}
		ev, err := event.Decode(msg.Data)
		if err != nil {
			m.Messages.WithLabelValues("malformed").Inc()
			in.o.Logger.Warn("malformed message skipped", "subject", msg.Subject, "err", err)
			continue
		}
		if ev.Site != site || ev.AgentID != agentID {
			// The subject is what NATS let this sender publish to; the
			// payload claims someone else.
			m.Messages.WithLabelValues("rejected").Inc()
			in.o.Logger.Warn("event claiming another agent rejected", "subject", msg.Subject, "claims_site", ev.Site, "claims_agent", ev.AgentID)
			if al := in.o.Liveness.Identity(site, agentID, ev, now); al != nil {
				if err := putAlert(al, "liveness"); err != nil {
					return err
				}
			}
			continue
		}
		if class != event.ClassOf(ev.Kind) {
			m.Messages.WithLabelValues("malformed").Inc()
			in.o.Logger.Warn("event on the wrong subject skipped", "subject", msg.Subject, "kind", ev.Kind)
			continue
		}
		if err := tx.SeenAgent(ev, now); err != nil {
			return err
		}
		if ev.Kind == event.KindHeartbeat {
			m.Messages.WithLabelValues("heartbeat").Inc()
			raised := in.o.Liveness.Heartbeat(ev, now)
			if len(raised) > 0 {
				// Keep the heartbeat the alerts cite as evidence.
				if _, err := tx.PutEvent(ev, msg.Data, now); err != nil {
					return err
				}
			}
			for _, al := range raised {
				if err := putAlert(al, "liveness"); err != nil {
					return err
				}
			}
			continue
		}
		inserted, err := tx.PutEvent(ev, msg.Data, now)
		if err != nil {
			return err
		}
		if !inserted {
			m.Messages.WithLabelValues("duplicate").Inc()
			continue
		}
		m.Messages.WithLabelValues("stored").Inc()
		gap, err := tx.TrackSeq(ev, now)
		if err != nil {
			return err
		}
		if gap != nil {
			m.Lost.WithLabelValues(store.ReasonSeqGap).Add(float64(gap.Count))
			in.o.Logger.Warn("gap in agent events", "agent_id", ev.AgentID, "boot_id", ev.BootID, "from", gap.FromSeq, "to", gap.ToSeq)
		}
		switch ev.Kind {
		case event.KindAgentLoss:
			l := ev.Loss
			if err := tx.AddLoss(store.Loss{Time: ev.Time, Site: ev.Site, Host: ev.Host, AgentID: ev.AgentID, BootID: ev.BootID,
				Reason: l.Reason, Sensor: l.Sensor, Count: l.Count}); err != nil {
				return err
			}
			m.Lost.WithLabelValues(l.Reason).Add(float64(l.Count))
		case event.KindAlert:
			if err := putAlert(ev, "host"); err != nil {
				return err
			}
		}
		if in.o.Correlation != nil {
			for _, al := range in.o.Correlation.Process(ev) {
				al := al
				if err := putAlert(&al, "correlation"); err != nil {
					return err
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	m.BatchSeconds.Observe(time.Since(start).Seconds())
	for _, al := range alerts {
		m.Alerts.WithLabelValues(al.Alert.Rule, al.Alert.Severity, source[al]).Inc()
		if in.o.OnAlert != nil {
			in.o.OnAlert(al)
		}
	}
	return nil
}

// CheckLiveness stores alerts for agents gone silent.
func (in *Ingest) CheckLiveness(ctx context.Context) error {
	raised := in.o.Liveness.Check(in.o.Now().UTC())
	if len(raised) == 0 {
		return nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	tx, err := in.o.Store.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var stored []*event.Event
	for _, al := range raised {
		ok, err := tx.PutAlert(al, in.o.Now().UTC())
		if err != nil {
			return err
		}
		if ok {
			stored = append(stored, al)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, al := range stored {
		in.o.Metrics.Alerts.WithLabelValues(al.Alert.Rule, al.Alert.Severity, "liveness").Inc()
		if in.o.OnAlert != nil {
			in.o.OnAlert(al)
		}
	}
	return nil
}

// WatchLiveness checks for silent agents every interval until ctx ends.
func (in *Ingest) WatchLiveness(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := in.CheckLiveness(ctx); err != nil {
				in.o.Logger.Error("storing liveness alerts", "err", err)
			}
		}
	}
}

// Warm feeds recently stored events to the correlator, so windows survive a
// collector restart; the alerts they raise were stored before and are
// dropped (their ids are deterministic).
func (in *Ingest) Warm(ctx context.Context, since time.Duration, limit int) (int, error) {
	if in.o.Correlation == nil {
		return 0, nil
	}
	n := 0
	err := in.o.Store.RecentEvents(ctx, in.o.Now().Add(-since), limit, func(ev *event.Event) {
		in.o.Correlation.Process(ev)
		n++
	})
	return n, err
}

package ingest

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// CommittedEvery is how often, at most, the collector tells agents what it
// has stored: watermarks are coalesced over this long.
const CommittedEvery = 200 * time.Millisecond

// committedMarks gathers the agents and boots of stored batches for
// PublishCommitted to tell them their watermarks.
type committedMarks struct {
	on    atomic.Bool // PublishCommitted runs
	mu    sync.Mutex
	dirty map[string]map[string]struct{} // agent id -> boot ids
	// alerts are the alerts the events lane counted in their agent's seqs
	// and the priority lane may not have stored yet: each holds its
	// boot's watermark below it until it is stored.
	alerts map[store.AgentBoot]map[uint64]string // -> seq -> event id
	wake   chan struct{}
}

func (c *committedMarks) wakeup() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.wake == nil {
		c.wake = make(chan struct{}, 1)
	}
	return c.wake
}

// noteCommitted notes the agents and boots of a batch just committed,
// duplicates included: an agent that resends what was stored needs the
// watermark as much as one sending anew.
func (in *Ingest) noteCommitted(tx *store.Tx, msgs []decoded, l lane) {
	c := &in.committed
	if !c.on.Load() {
		return
	}
	c.mu.Lock()
	if c.dirty == nil {
		c.dirty = map[string]map[string]struct{}{}
	}
	add := func(agentID, boot string) {
		boots := c.dirty[agentID]
		if boots == nil {
			boots = map[string]struct{}{}
			c.dirty[agentID] = boots
		}
		boots[boot] = struct{}{}
	}
	for _, m := range msgs {
		if m.subjErr != nil || m.class == event.ClassHeartbeat {
			continue
		}
		boot := ""
		for _, ln := range m.lines {
			ev := ln.ev
			if ev == nil || ev.BootID == "" || ev.AgentID != m.agentID {
				continue
			}
			if ev.BootID != boot {
				boot = ev.BootID
				add(m.agentID, boot)
			}
			if l == laneEvents && m.class == event.ClassAlerts && ev.Seq > 0 {
				if c.alerts == nil {
					c.alerts = map[store.AgentBoot]map[uint64]string{}
				}
				k := store.AgentBoot{AgentID: m.agentID, BootID: boot}
				if c.alerts[k] == nil {
					c.alerts[k] = map[uint64]string{}
				}
				c.alerts[k][ev.Seq] = ev.ID
			}
		}
	}
	for _, ab := range tx.TrackedBoots() {
		add(ab.AgentID, ab.BootID)
	}
	c.mu.Unlock()
	select {
	case c.wakeup() <- struct{}{}:
	default:
	}
}

// PublishCommitted tells each agent, after its batches are stored and at
// most every CommittedEvery, the watermark of each boot it sent
// (store.Committed) on event.CommittedSubject, until ctx ends. The agent
// keeps its events until a watermark covers them, so a power loss of this
// host, which can take what JetStream acknowledged but had not synced,
// loses nothing. A watermark that cannot be read or sent is logged and
// sent with the next batch; the agent resends after its commit timeout.
func (in *Ingest) PublishCommitted(ctx context.Context, nc *nats.Conn) {
	c := &in.committed
	c.on.Store(true)
	wake := c.wakeup()
	t := time.NewTimer(CommittedEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
		c.mu.Lock()
		dirty := c.dirty
		c.dirty = nil
		c.mu.Unlock()
		for agentID, boots := range dirty {
			list := make([]string, 0, len(boots))
			for b := range boots {
				list = append(list, b)
			}
			marks, err := in.o.Store.Committed(ctx, agentID, list)
			if err == nil {
				err = in.holdForAlerts(ctx, agentID, marks)
			}
			if err != nil {
				if ctx.Err() == nil {
					in.o.Logger.Error("reading what an agent has stored", "agent_id", agentID, "err", err)
				}
				continue
			}
			if len(marks) == 0 {
				continue
			}
			data, err := json.Marshal(marks)
			if err != nil {
				in.o.Logger.Error("encoding an agent's watermark", "agent_id", agentID, "err", err)
				continue
			}
			if err := nc.Publish(event.CommittedSubject(agentID), data); err != nil {
				in.o.Logger.Warn("publishing an agent's watermark", "agent_id", agentID, "err", err)
			}
		}
		t.Reset(CommittedEvery)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// holdForAlerts lowers each boot's watermark in marks below the first
// alert the events lane counted and the store does not hold yet, and
// forgets the alerts it finds stored.
func (in *Ingest) holdForAlerts(ctx context.Context, agentID string, marks map[string]uint64) error {
	c := &in.committed
	for boot, w := range marks {
		k := store.AgentBoot{AgentID: agentID, BootID: boot}
		c.mu.Lock()
		pending := make(map[uint64]string, len(c.alerts[k]))
		for seq, id := range c.alerts[k] {
			if seq <= w {
				pending[seq] = id
			}
		}
		c.mu.Unlock()
		for seq, id := range pending {
			stored, err := in.o.Store.HasEvent(ctx, id)
			if err != nil {
				return err
			}
			if stored {
				c.mu.Lock()
				delete(c.alerts[k], seq)
				if len(c.alerts[k]) == 0 {
					delete(c.alerts, k)
				}
				c.mu.Unlock()
			} else if seq-1 < marks[boot] {
				marks[boot] = seq - 1
			}
		}
		if marks[boot] == 0 {
			delete(marks, boot)
		}
	}
	return nil
}

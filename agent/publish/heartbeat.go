package publish

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigilhq/vigil/event"
)

// Start begins heartbeats about src every heartbeat interval.
func (p *Publisher) Start(src Source) {
	p.mu.Lock()
	p.src = src
	p.bootID = src.BootID()
	p.mu.Unlock()
	p.beating.Add(1)
	go p.heartbeats()
}

func (p *Publisher) heartbeats() {
	defer p.beating.Done()
	var n uint64
	t := time.NewTicker(p.cfg.HeartbeatEvery)
	defer t.Stop()
	p.heartbeat(&n, p.cfg.HeartbeatEvery)
	for {
		select {
		case <-p.beatStop:
			return
		case <-t.C:
			p.heartbeat(&n, p.cfg.HeartbeatEvery)
		}
	}
}

// heartbeat publishes one heartbeat straight to JetStream, not through the
// spool: a late heartbeat says nothing, and it carries seq 0 so it leaves
// no gap in the agent's numbered events. interval 0 says the agent is
// stopping.
func (p *Publisher) heartbeat(n *uint64, interval time.Duration) {
	p.mu.Lock()
	src, boot := p.src, p.bootID
	p.mu.Unlock()
	if src == nil || !p.online() {
		return
	}
	*n++
	ev := &event.Event{ID: fmt.Sprintf("%s-hb-%d", boot, *n), Time: time.Now().UTC(), Kind: event.KindHeartbeat,
		Site: p.opts.Site, Host: p.opts.Host, AgentID: p.opts.AgentID, BootID: boot, Heartbeat: src.Heartbeat(interval)}
	data, err := event.Encode(ev)
	if err != nil {
		p.log.Error("encoding heartbeat", "err", err)
		return
	}
	if _, err := p.js.PublishAsync(event.Subject(p.opts.Site, p.opts.AgentID, event.ClassHeartbeat), data,
		jetstream.WithMsgID(ev.ID)); err == nil {
		p.beats.Add(1)
	}
}

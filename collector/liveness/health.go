package liveness

import (
	"sort"
	"time"

	"github.com/vigilhq/vigil/event"
)

// Health is what an agent's last heartbeat said of it, for dashboards.
type Health struct {
	AgentID, Site, Host string
	Status              string // ok, silent or stopped
	LastHeartbeat       time.Time
	// Heartbeat is the last one received (nil: seeded from the store
	// without one).
	Heartbeat *event.Heartbeat
	// ClockSkew is the agent's clock less the collector's as the last
	// heartbeat arrived (its delivery delay counts as the agent behind).
	ClockSkew time.Duration
}

// Health returns every known agent's health, by agent id.
func (t *Tracker) Health() []Health {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Health, 0, len(t.agents))
	for id, st := range t.agents {
		h := Health{AgentID: id, Site: st.site, Host: st.host, Status: statusOf(st), LastHeartbeat: st.lastHB, ClockSkew: st.skew}
		if st.last != nil {
			hb := *st.last
			h.Heartbeat = &hb
		}
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AgentID < out[j].AgentID })
	return out
}

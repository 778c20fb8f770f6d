package liveness

import (
	"fmt"
	"time"

	"github.com/vigilhq/vigil/event"
)

// Violation is an operation NATS refused an agent's key: a publish or a
// subscription outside the subjects its permissions allow (JetStream API
// calls are publishes to $JS.API.>).
type Violation struct {
	// AgentID and Site name the enrolled agent whose key it was; empty
	// when the key is no enrolled agent's.
	AgentID, Site string
	// Key is the NKey the connection authenticated with.
	Key string
	// Op is "publish", "jetstream" (a publish to the JetStream API),
	// "subscribe" or "reply".
	Op      string
	Subject string
}

// Violation records a refused operation; the alert it raises, one per
// agent and kind of operation per cooldown, comes out of the next Check.
// Those the cooldown holds back are counted in the next alert.
func (t *Tracker) Violation(v Violation, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	id := v.AgentID
	if id == "" {
		id = "key:" + v.Key
	}
	// An agent not heard from yet is not added: it would count as silent.
	st, ok := t.agents[id]
	if !ok {
		st = &agentState{site: v.Site}
	}
	who := fmt.Sprintf("agent %s on %s at %s (key %s)", v.AgentID, st.host, v.Site, v.Key)
	if v.AgentID == "" {
		who = fmt.Sprintf("NATS key %s, of no enrolled agent,", v.Key)
	}
	what := map[string]string{"publish": "publish to", "jetstream": "call the JetStream API at", "subscribe": "subscribe to",
		"reply": "publish with a reply subject of"}[v.Op]
	if what == "" {
		what = v.Op + " on"
	}
	key := id + "\x00" + v.Op
	summary := fmt.Sprintf("%s tried to %s %q, which its NATS permissions refuse", who, what, v.Subject)
	if n := t.held[key]; n > 0 {
		summary += fmt.Sprintf(" (and %d more refused %s since the last alert)", n, v.Op)
	}
	if last, ok := t.violated[key]; ok && now.Sub(last) < t.opts.Cooldown {
		t.held[key]++
		return
	}
	t.violated[key] = now
	ev := &event.Event{AgentID: v.AgentID, Site: v.Site, Host: st.host, BootID: st.bootID}
	al := raise(ev, RulePermission, event.SeverityHigh, summary, 1, now)
	al.ID = fmt.Sprintf("live-%s-%s-%s-%d", RulePermission, id, v.Op, now.UnixNano())
	if v.AgentID != "" {
		al.Alert.Group = map[string]string{"agent_id": v.AgentID}
	} else {
		al.Alert.Group = map[string]string{"nkey": v.Key}
	}
	al.Alert.Value = float64(1 + t.held[key])
	delete(t.held, key)
	t.pending = append(t.pending, al)
}

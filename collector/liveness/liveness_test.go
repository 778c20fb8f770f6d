package liveness

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// t0 is the tests' clock: the tracker reads no other.
var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// beat is one heartbeat of agent ag-1 at leeds.
type beat struct {
	boot     string
	interval uint32 // 0: the agent's farewell
	sensors  []string
	hash     string
	drops    uint64
}

var (
	both    = []string{"file", "process"}
	process = []string{"process"}
)

func heartbeat(b beat, at time.Time) *event.Event {
	return &event.Event{ID: fmt.Sprintf("%s-hb-%d", b.boot, at.Unix()), Time: at, Kind: event.KindHeartbeat,
		Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: b.boot,
		Heartbeat: &event.Heartbeat{IntervalS: b.interval, Sensors: b.sensors, RuleSetHash: b.hash, SpoolDropped: b.drops}}
}

// raised lists alerts as "rule" or "rule=value", in order.
func raised(alerts []*event.Event) string {
	var out []string
	for _, a := range alerts {
		s := a.Alert.Rule
		if a.Alert.Value != 0 {
			s += fmt.Sprintf("=%g", a.Alert.Value)
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// Each case is heartbeats of one agent and checks for silence, at times
// after t0, with the alerts each raises.
func TestHeartbeatsAndSilence(t *testing.T) {
	type step struct {
		at   time.Duration
		hb   *beat // nil: Check
		want string
	}
	b1 := func(interval uint32, sensors []string, hash string, drops uint64) *beat {
		return &beat{"b1", interval, sensors, hash, drops}
	}
	b2 := func(interval uint32, sensors []string, hash string, drops uint64) *beat {
		return &beat{"b2", interval, sensors, hash, drops}
	}
	for _, c := range []struct {
		name    string
		allowed []string
		steps   []step
	}{
		{"steady heartbeats", nil, []step{
			{0, b1(10, both, "h1", 0), ""}, {10 * time.Second, b1(10, both, "h1", 0), ""},
			{20 * time.Second, b1(10, both, "h1", 0), ""}, {50 * time.Second, nil, ""}}},
		{"the first heartbeat of an agent raises nothing", nil, []step{
			{0, b1(10, process, "h9", 7), ""}}},
		{"silent after three intervals, again after six", nil, []step{
			{0, b1(10, both, "h1", 0), ""},
			{30 * time.Second, nil, ""},
			{31 * time.Second, nil, RuleSilent + "=31"},
			{time.Minute, nil, ""},
			{70 * time.Second, b1(10, both, "h1", 0), ""},
			{101 * time.Second, nil, RuleSilent + "=31"}}},
		{"silence counts the agent's own interval", nil, []step{
			{0, b1(60, both, "h1", 0), ""}, {180 * time.Second, nil, ""}, {181 * time.Second, nil, RuleSilent + "=181"}}},
		{"a farewell is a stop, not a silence", nil, []step{
			{0, b1(10, both, "h1", 0), ""}, {5 * time.Second, b1(0, nil, "h1", 0), RuleStopped}, {time.Hour, nil, RuleStopped + "=3595"}}},
		{"a new boot after a farewell is no restart", nil, []step{
			{0, b1(10, both, "h1", 0), ""}, {5 * time.Second, b1(0, nil, "h1", 0), RuleStopped},
			{time.Minute, b2(10, both, "h1", 0), ""}}},
		{"a new boot without a farewell is a restart", nil, []step{
			{0, b1(10, both, "h1", 0), ""}, {5 * time.Second, b2(10, both, "h1", 0), RuleRestarted}}},
		{"a new boot after a reported silence is no restart", nil, []step{
			{0, b1(10, both, "h1", 0), ""}, {31 * time.Second, nil, RuleSilent + "=31"},
			{40 * time.Second, b2(10, both, "h1", 0), ""}}},
		{"a sensor that stops running", nil, []step{
			{0, b1(10, both, "h1", 0), ""}, {10 * time.Second, b1(10, process, "h1", 0), RuleSensorDetached + "=1"},
			{20 * time.Second, b1(10, process, "h1", 0), ""}, {30 * time.Second, b1(10, both, "h1", 0), ""}}},
		{"sensors listed in another order are the same", nil, []step{
			{0, b1(10, both, "h1", 0), ""}, {10 * time.Second, b1(10, []string{"process", "file"}, "h1", 0), ""}}},
		{"a farewell without sensors detaches none", nil, []step{
			{0, b1(10, both, "h1", 0), ""}, {10 * time.Second, b1(0, nil, "h1", 0), RuleStopped},
			{20 * time.Second, b2(10, process, "h1", 0), RuleSensorDetached + "=1"}}},
		{"a rule set the SOC did not ship", nil, []step{
			{0, b1(10, both, "h1", 0), ""}, {10 * time.Second, b1(10, both, "h2", 0), RuleRuleSetChanged},
			{20 * time.Second, b1(10, both, "h2", 0), ""}}},
		{"a rule set the SOC shipped", []string{"h2"}, []step{
			{0, b1(10, both, "h1", 0), ""}, {10 * time.Second, b1(10, both, "h2", 0), ""}}},
		{"drops within a boot count from the last heartbeat", nil, []step{
			{0, b1(10, both, "h1", 2), ""}, {10 * time.Second, b1(10, both, "h1", 7), RuleLoss + "=5"},
			{20 * time.Second, b1(10, both, "h1", 7), ""}}},
		{"drops of a new boot count whole", nil, []step{
			{0, b1(10, both, "h1", 9), ""}, {10 * time.Second, b2(10, both, "h1", 3), RuleRestarted + " " + RuleLoss + "=3"}}},
		{"one rule alerts once per cooldown", nil, []step{
			{0, b1(10, both, "h1", 0), ""}, {10 * time.Second, b1(10, both, "h1", 1), RuleLoss + "=1"},
			{20 * time.Second, b1(10, both, "h1", 2), ""},
			{10*time.Minute + 9*time.Second, b1(10, both, "h1", 3), ""},
			{10*time.Minute + 10*time.Second, b1(10, both, "h1", 4), RuleLoss + "=1"}}},
		{"a cooldown holds back its own rule only", nil, []step{
			{0, b1(10, both, "h1", 0), ""}, {10 * time.Second, b1(10, both, "h1", 1), RuleLoss + "=1"},
			{20 * time.Second, b1(10, process, "h1", 1), RuleSensorDetached + "=1"}}},
		{"everything at once, in a fixed order", nil, []step{
			{0, b1(10, both, "h1", 0), ""},
			{10 * time.Second, b1(10, process, "h2", 4), RuleSensorDetached + "=1 " + RuleRuleSetChanged + " " + RuleLoss + "=4"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := New(Options{AllowedRuleSets: c.allowed})
			for i, s := range c.steps {
				now := t0.Add(s.at)
				var got []*event.Event
				if s.hb != nil {
					got = tr.Heartbeat(heartbeat(*s.hb, now), now)
				} else {
					got = tr.Check(now)
				}
				if r := raised(got); r != s.want {
					t.Fatalf("step %d at %v: raised %q, want %q", i, s.at, r, s.want)
				}
			}
		})
	}
}

// An alert names the agent, cites the heartbeat that raised it and is
// tagged as impairing defences.
func TestAlertShape(t *testing.T) {
	tr := New(Options{})
	tr.Heartbeat(heartbeat(beat{"b1", 10, both, "h1", 0}, t0), t0)
	now := t0.Add(10 * time.Second)
	hb := heartbeat(beat{"b1", 10, process, "h1", 0}, now)
	got := tr.Heartbeat(hb, now)
	if len(got) != 1 {
		t.Fatalf("raised %q, want one alert", raised(got))
	}
	al := got[0]
	want := fmt.Sprintf("live-%s-ag-1-%d", RuleSensorDetached, now.UnixNano())
	if al.ID != want || al.Kind != event.KindAlert || !al.Time.Equal(now) {
		t.Errorf("alert %s kind %s at %v, want %s, alert, %v", al.ID, al.Kind, al.Time, want, now)
	}
	if al.Site != "leeds" || al.Host != "ws1" || al.AgentID != "ag-1" || al.BootID != "b1" {
		t.Errorf("alert about %s/%s/%s boot %s", al.Site, al.Host, al.AgentID, al.BootID)
	}
	a := al.Alert
	if a.Severity != event.SeverityHigh || a.Scope != "global" || !slices.Equal(a.Tags, []string{"T1562.001"}) ||
		a.Group["agent_id"] != "ag-1" || !slices.Equal(a.Evidence, []string{hb.ID}) {
		t.Errorf("alert payload %+v", a)
	}
	if !strings.Contains(a.Summary, "ag-1") || !strings.Contains(a.Summary, "file") {
		t.Errorf("summary %q does not name the agent and the sensor", a.Summary)
	}

	silent := tr.Check(now.Add(time.Minute))
	if len(silent) != 1 || silent[0].Alert.Evidence == nil || len(silent[0].Alert.Evidence) != 0 ||
		silent[0].Host != "ws1" || silent[0].BootID != "b1" {
		t.Fatalf("silence alert %+v, want one citing nothing (an empty list) about ws1 boot b1", silent)
	}
}

func TestHeartbeatWithoutPayload(t *testing.T) {
	tr := New(Options{})
	ev := heartbeat(beat{"b1", 10, both, "h1", 0}, t0)
	ev.Heartbeat = nil
	if got := tr.Heartbeat(ev, t0); got != nil {
		t.Fatalf("raised %q", raised(got))
	}
	if s := tr.Status("ag-1"); s != "" {
		t.Fatalf("status %q, want the agent still unknown", s)
	}
}

func TestStatus(t *testing.T) {
	tr := New(Options{})
	send := func(b beat, at time.Duration) { tr.Heartbeat(heartbeat(b, t0.Add(at)), t0.Add(at)) }
	steps := []struct {
		do   func()
		want string
	}{
		{func() {}, ""},
		{func() { send(beat{"b1", 10, both, "h1", 0}, 0) }, "ok"},
		{func() { tr.Check(t0.Add(time.Minute)) }, "silent"},
		{func() { send(beat{"b1", 10, both, "h1", 0}, 2*time.Minute) }, "ok"},
		{func() { send(beat{"b1", 0, nil, "h1", 0}, 3*time.Minute) }, "stopped"},
		{func() { tr.Check(t0.Add(time.Hour)) }, "stopped"},
	}
	for i, s := range steps {
		s.do()
		if got := tr.Status("ag-1"); got != s.want {
			t.Fatalf("step %d: status %q, want %q", i, got, s.want)
		}
	}
}

// Known seeds an agent from the store when the collector starts: the
// agent's stored state is where changes count from, and silence counts
// from the collector's start, since the collector was away.
func TestKnownSeedsFromStore(t *testing.T) {
	stored := &event.Heartbeat{IntervalS: 60, Sensors: both, RuleSetHash: "h1", SpoolDropped: 4,
		KernelDrops: map[string]uint64{"file": 1}}
	start := t0.Add(24 * time.Hour)

	t.Run("same state raises nothing", func(t *testing.T) {
		tr := New(Options{})
		tr.Known("ag-1", "leeds", "ws1", "b1", stored, start)
		now := start.Add(time.Minute)
		ev := heartbeat(beat{"b1", 60, both, "h1", 4}, now)
		ev.Heartbeat.KernelDrops = map[string]uint64{"file": 1}
		if got := tr.Heartbeat(ev, now); len(got) != 0 {
			t.Fatalf("raised %q", raised(got))
		}
	})
	t.Run("changes count from the stored state", func(t *testing.T) {
		tr := New(Options{})
		tr.Known("ag-1", "leeds", "ws1", "b1", stored, start)
		now := start.Add(time.Minute)
		got := tr.Heartbeat(heartbeat(beat{"b1", 60, process, "h2", 8}, now), now)
		if r := raised(got); r != RuleSensorDetached+"=1 "+RuleRuleSetChanged+" "+RuleLoss+"=3" {
			t.Fatalf("raised %q", r)
		}
	})
	t.Run("silence counts from the collector's start", func(t *testing.T) {
		tr := New(Options{})
		tr.Known("ag-1", "leeds", "ws1", "b1", stored, start)
		if got := tr.Check(start.Add(180 * time.Second)); len(got) != 0 {
			t.Fatalf("raised %q at three of its intervals", raised(got))
		}
		if r := raised(tr.Check(start.Add(181 * time.Second))); r != RuleSilent+"=181" {
			t.Fatalf("raised %q, want silence", r)
		}
	})
	t.Run("no stored heartbeat: ten seconds assumed", func(t *testing.T) {
		tr := New(Options{})
		tr.Known("ag-1", "leeds", "ws1", "b1", nil, start)
		if r := raised(tr.Check(start.Add(31 * time.Second))); r != RuleSilent+"=31" {
			t.Fatalf("raised %q, want silence", r)
		}
	})
	t.Run("stored farewell on a running host: still raised", func(t *testing.T) {
		tr := New(Options{})
		tr.Known("ag-1", "leeds", "ws1", "b1", &event.Heartbeat{IntervalS: 0}, start)
		if got := tr.Check(start.Add(60 * time.Second)); len(got) != 0 {
			t.Fatalf("raised %q within six intervals of the collector's start", raised(got))
		}
		if got := severities(tr.Check(start.Add(61 * time.Second))); got != RuleStopped+"/critical" {
			t.Fatalf("raised %q, want the stop again, critical", got)
		}
	})
	t.Run("stored farewell: stopped", func(t *testing.T) {
		tr := New(Options{})
		tr.Known("ag-1", "leeds", "ws1", "b1", &event.Heartbeat{IntervalS: 0, HostShutdown: true}, start)
		if s := tr.Status("ag-1"); s != "stopped" {
			t.Fatalf("status %q", s)
		}
		if got := tr.Check(start.Add(time.Hour)); len(got) != 0 {
			t.Fatalf("raised %q", raised(got))
		}
		now := start.Add(2 * time.Hour)
		if got := tr.Heartbeat(heartbeat(beat{"b2", 10, both, "h1", 0}, now), now); len(got) != 0 {
			t.Fatalf("new boot after a stored farewell raised %q", raised(got))
		}
	})
	t.Run("new boot after a stored running state: restart", func(t *testing.T) {
		tr := New(Options{})
		tr.Known("ag-1", "leeds", "ws1", "b1", stored, start)
		now := start.Add(time.Second)
		if r := raised(tr.Heartbeat(heartbeat(beat{"b2", 60, both, "h1", 0}, now), now)); r != RuleRestarted {
			t.Fatalf("raised %q", r)
		}
	})
}

// Agents are checked in id order, so alerts come out the same way each run.
func TestCheckOrder(t *testing.T) {
	tr := New(Options{})
	for _, id := range []string{"ag-3", "ag-1", "ag-2"} {
		tr.Known(id, "leeds", "ws-"+id, "b1", nil, t0)
	}
	var ids []string
	for _, al := range tr.Check(t0.Add(time.Minute)) {
		ids = append(ids, al.AgentID)
	}
	if strings.Join(ids, " ") != "ag-1 ag-2 ag-3" {
		t.Fatalf("silence alerts for %v, want ag-1 ag-2 ag-3", ids)
	}
}

// A message whose payload claims another agent blames the agent whose
// subject it came on, known or not, once per cooldown.
func TestIdentity(t *testing.T) {
	tr := New(Options{Cooldown: time.Minute})
	claim := &event.Event{ID: "x-1", Site: "manila", AgentID: "ag-9"}
	al := tr.Identity("leeds", "ag-1", claim, t0)
	if al == nil || al.Alert.Rule != RuleIdentity || al.AgentID != "ag-1" || al.Site != "leeds" || al.Alert.Severity != event.SeverityHigh {
		t.Fatalf("alert %+v, want an identity mismatch blaming ag-1 at leeds", al)
	}
	for _, s := range []string{"ag-1", "leeds", "ag-9", "manila"} {
		if !strings.Contains(al.Alert.Summary, s) {
			t.Errorf("summary %q does not name %s", al.Alert.Summary, s)
		}
	}
	if al.Alert.Evidence == nil || len(al.Alert.Evidence) != 0 {
		t.Errorf("evidence %v, want an empty list: the claim is not stored", al.Alert.Evidence)
	}
	if again := tr.Identity("leeds", "ag-1", claim, t0.Add(59*time.Second)); again != nil {
		t.Errorf("second claim within the cooldown raised %+v", again)
	}
	if again := tr.Identity("leeds", "ag-1", claim, t0.Add(time.Minute)); again == nil {
		t.Error("claim after the cooldown raised nothing")
	}
	if s := tr.Status("ag-1"); s != "ok" {
		t.Errorf("status of the blamed agent %q, want ok (now tracked)", s)
	}
}

// An agent whose clock runs ahead shows by how much in its health: the
// heartbeat's own time less its arrival.
func TestHealthCarriesClockSkew(t *testing.T) {
	tr := New(Options{})
	arrived := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	tr.Heartbeat(heartbeat(beat{boot: "b1", interval: 10, sensors: both}, arrived.Add(90*time.Second)), arrived)
	h := tr.Health()
	if len(h) != 1 || h[0].ClockSkew != 90*time.Second {
		t.Errorf("health %+v, want the agent 90 s ahead", h)
	}
	// Set back (to hide activity in an earlier shift): behind shows too.
	later := arrived.Add(10 * time.Second)
	tr.Heartbeat(heartbeat(beat{boot: "b1", interval: 10, sensors: both}, later.Add(-time.Hour)), later)
	if h := tr.Health(); h[0].ClockSkew != -time.Hour {
		t.Errorf("health %+v, want the agent an hour behind", h)
	}
}

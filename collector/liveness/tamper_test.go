package liveness

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// alerts lists alerts as "rule/severity", in order.
func severities(alerts []*event.Event) string {
	var out []string
	for _, a := range alerts {
		out = append(out, a.Alert.Rule+"/"+a.Alert.Severity)
	}
	return strings.Join(out, " ")
}

func farewell(boot string, shutdown bool, at time.Time) *event.Event {
	ev := heartbeat(beat{boot, 0, nil, "h1", 0}, at)
	ev.Heartbeat.HostShutdown = shutdown
	return ev
}

// An agent stopped on a host that keeps running is an insider's move; a
// host shutting down is routine.
func TestStopSeverity(t *testing.T) {
	for _, c := range []struct {
		name     string
		shutdown bool
		want     string
		again    string
	}{
		{"stopped while the host runs", false, RuleStopped + "/high", RuleStopped + "/critical"},
		{"stopped by a host shutdown", true, RuleHostShutdown + "/info", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := New(Options{})
			tr.Heartbeat(heartbeat(beat{"b1", 10, both, "h1", 0}, t0), t0)
			now := t0.Add(5 * time.Second)
			if got := severities(tr.Heartbeat(farewell("b1", c.shutdown, now), now)); got != c.want {
				t.Fatalf("raised %q, want %q", got, c.want)
			}
			if s := tr.Status("ag-1"); s != "stopped" {
				t.Fatalf("status %q, want stopped", s)
			}
			// The farewell's interval was 10 s: the stop is the first
			// alert, and the next comes at twice three intervals.
			if got := tr.Check(t0.Add(60 * time.Second)); len(got) != 0 {
				t.Fatalf("raised %q before six intervals", severities(got))
			}
			want := c.again
			if got := severities(tr.Check(t0.Add(66 * time.Second))); got != want {
				t.Fatalf("still stopped after six intervals: raised %q, want %q", got, want)
			}
			if s := tr.Status("ag-1"); s != "stopped" {
				t.Fatalf("status %q, want stopped", s)
			}
			now = t0.Add(time.Hour)
			if got := tr.Heartbeat(heartbeat(beat{"b2", 10, both, "h1", 0}, now), now); len(got) != 0 {
				t.Fatalf("the agent's return raised %q", raised(got))
			}
			if got := severities(tr.Check(now.Add(31 * time.Second))); got != RuleSilent+"/high" {
				t.Fatalf("a silence after the return raised %q, want a new silence at high", got)
			}
		})
	}
}

// A heartbeat sent before the sensors run (a restart's first) is not every
// sensor gone; a restart that brings back fewer sensors still is.
func TestRestartBeforeSensorsRun(t *testing.T) {
	starting := func(boot string, at time.Time) *event.Event {
		ev := heartbeat(beat{boot, 10, []string{}, "h1", 0}, at)
		ev.Heartbeat.Starting = true
		return ev
	}
	for _, c := range []struct {
		name  string
		after []string
		want  string
	}{
		{"clean restart", both, ""},
		{"restart with a sensor turned off", process, RuleSensorDetached},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := New(Options{})
			tr.Heartbeat(heartbeat(beat{"b1", 10, both, "h1", 0}, t0), t0)
			tr.Heartbeat(farewell("b1", false, t0.Add(time.Second)), t0.Add(time.Second))
			if got := tr.Heartbeat(starting("b2", t0.Add(5*time.Second)), t0.Add(5*time.Second)); len(got) != 0 {
				t.Fatalf("the new boot's first heartbeat, before its sensors run, raised %q", raised(got))
			}
			now := t0.Add(15 * time.Second)
			if got := raised(tr.Heartbeat(heartbeat(beat{"b2", 10, c.after, "h1", 0}, now), now)); got != strings.TrimSpace(c.want+func() string {
				if c.want != "" {
					return "=1"
				}
				return ""
			}()) {
				t.Fatalf("raised %q once the sensors run, want %q", got, c.want)
			}
		})
	}
}

// A probe the agent finds detached raises an alert at the heartbeat that
// reports it, once per probe, with no cooldown shared with other reasons.
func TestProbeDetached(t *testing.T) {
	tr := New(Options{})
	hb := func(at time.Duration, drops uint64, detached ...string) []*event.Event {
		ev := heartbeat(beat{"b1", 10, both, "h1", drops}, t0.Add(at))
		ev.Heartbeat.Detached = detached
		return tr.Heartbeat(ev, t0.Add(at))
	}
	hb(0, 0)
	one := "net: link 7 (cgroup_inet4_connect)"
	two := "net: link 8 (cgroup_inet_egress)"
	got := hb(10*time.Second, 0, one)
	if severities(got) != RuleSensorDetached+"/high" || !strings.Contains(got[0].Alert.Summary, one) {
		t.Fatalf("raised %q (%v), want one high detachment naming %s", severities(got), got, one)
	}
	if got := hb(20*time.Second, 0, one); len(got) != 0 {
		t.Fatalf("the same detached probe raised %q again", raised(got))
	}
	if got := hb(30*time.Second, 0, one, two); severities(got) != RuleSensorDetached+"/high" || !strings.Contains(got[0].Alert.Summary, two) ||
		strings.Contains(got[0].Alert.Summary, one) {
		t.Fatalf("a second probe detached raised %q, want one naming only %s", fmt.Sprint(got), two)
	}
}

// An agent that stays silent keeps raising, at doubling spans and with
// rising severity, not one alert and then nothing.
func TestSilenceEscalates(t *testing.T) {
	tr := New(Options{MaxRepeat: 4 * time.Minute})
	tr.Heartbeat(heartbeat(beat{"b1", 10, both, "h1", 0}, t0), t0)
	for _, s := range []struct {
		at   time.Duration
		want string
	}{
		{30 * time.Second, ""},
		{31 * time.Second, RuleSilent + "/high"},
		{60 * time.Second, ""},
		{61 * time.Second, RuleSilent + "/critical"},
		{120 * time.Second, ""},
		{121 * time.Second, RuleSilent + "/critical"},
		{241 * time.Second, RuleSilent + "/critical"},
		{480 * time.Second, ""},
		// Capped: four minutes after the last, not twice the silence.
		{481 * time.Second, RuleSilent + "/critical"},
		{721 * time.Second, RuleSilent + "/critical"},
	} {
		if got := severities(tr.Check(t0.Add(s.at))); got != s.want {
			t.Fatalf("at %v: raised %q, want %q", s.at, got, s.want)
		}
	}
	// Back: the next silence starts over at high.
	back := t0.Add(800 * time.Second)
	tr.Heartbeat(heartbeat(beat{"b1", 10, both, "h1", 0}, back), back)
	if got := severities(tr.Check(back.Add(31 * time.Second))); got != RuleSilent+"/high" {
		t.Fatalf("a new silence raised %q, want high", got)
	}
}

// A NATS permission violation by an agent's key is an alert naming the
// agent and what it tried; repeats of one kind wait for the cooldown and
// are counted in the next alert.
func TestPermissionViolation(t *testing.T) {
	tr := New(Options{Cooldown: time.Minute})
	tr.Heartbeat(heartbeat(beat{"b1", 10, both, "h1", 0}, t0), t0)
	tr.Violation(Violation{AgentID: "ag-1", Site: "leeds", Op: "publish", Subject: "vigil.leeds.ag-2.events"}, t0)
	tr.Violation(Violation{AgentID: "ag-1", Site: "leeds", Op: "subscribe", Subject: ">"}, t0)
	tr.Violation(Violation{AgentID: "ag-1", Site: "leeds", Op: "publish", Subject: "$JS.API.STREAM.DELETE.VIGIL"}, t0.Add(time.Second))
	got := tr.Check(t0.Add(2 * time.Second))
	if severities(got) != RulePermission+"/high "+RulePermission+"/high" {
		t.Fatalf("raised %q, want two permission alerts", severities(got))
	}
	for i, want := range []string{"vigil.leeds.ag-2.events", ">"} {
		a := got[i]
		if a.AgentID != "ag-1" || a.Host != "ws1" || !strings.Contains(a.Alert.Summary, "ag-1") || !strings.Contains(a.Alert.Summary, want) {
			t.Errorf("alert %d: agent %s host %s summary %q, want ag-1 on ws1 and %q", i, a.AgentID, a.Host, a.Alert.Summary, want)
		}
	}
	if got := tr.Check(t0.Add(3 * time.Second)); len(got) != 0 {
		t.Fatalf("raised %q again", severities(got))
	}
	tr.Violation(Violation{AgentID: "ag-1", Site: "leeds", Op: "publish", Subject: "$JS.API.INFO"}, t0.Add(time.Minute))
	tr.Heartbeat(heartbeat(beat{"b1", 10, both, "h1", 0}, t0.Add(time.Minute)), t0.Add(time.Minute))
	got = tr.Check(t0.Add(time.Minute))
	if len(got) != 1 || !strings.Contains(got[0].Alert.Summary, "$JS.API.INFO") || !strings.Contains(got[0].Alert.Summary, "1 more") {
		t.Fatalf("after the cooldown raised %v, want one alert naming $JS.API.INFO and the 1 held back", got)
	}
	tr.Violation(Violation{Key: "UKEY", Op: "publish", Subject: "x"}, t0.Add(2*time.Minute))
	tr.Heartbeat(heartbeat(beat{"b1", 10, both, "h1", 0}, t0.Add(2*time.Minute)), t0.Add(2*time.Minute))
	got = tr.Check(t0.Add(2 * time.Minute))
	if len(got) != 1 || !strings.Contains(got[0].Alert.Summary, "UKEY") {
		t.Fatalf("a key of no enrolled agent raised %v, want an alert naming the key", got)
	}
	// Its repeats wait for the cooldown too, and it is not taken for an
	// agent gone silent.
	tr.Violation(Violation{Key: "UKEY", Op: "publish", Subject: "y"}, t0.Add(2*time.Minute+time.Second))
	tr.Heartbeat(heartbeat(beat{"b1", 10, both, "h1", 0}, t0.Add(3*time.Minute)), t0.Add(3*time.Minute))
	if got := tr.Check(t0.Add(3 * time.Minute)); len(got) != 0 {
		t.Fatalf("raised %q", severities(got))
	}
	if s := tr.Status("key:UKEY"); s != "" {
		t.Fatalf("the unknown key is tracked as an agent (%q)", s)
	}
}

// A sensor path the agent's canary finds blind (attached, but its records
// no longer come through) raises an alert naming it at the heartbeat that
// reports it, once per path and boot, and again after a restart finds it
// blind still; a path that comes back and goes blind again raises again.
func TestSensorBlind(t *testing.T) {
	tr := New(Options{})
	hb := func(boot string, at time.Duration, blind ...string) []*event.Event {
		ev := heartbeat(beat{boot, 10, both, "h1", 0}, t0.Add(at))
		ev.Heartbeat.Blind = blind
		return tr.Heartbeat(ev, t0.Add(at))
	}
	hb("b1", 0)
	file := "file: the canary's write to /var/lib/vigil/selfcheck/canary did not come through the ring within 3s"
	proc := "process: the canary's exec of /bin/sh did not come through the ring within 3s"
	got := hb("b1", 10*time.Second, file)
	if severities(got) != RuleSensorBlind+"/high" || !strings.Contains(got[0].Alert.Summary, file) {
		t.Fatalf("raised %q (%v), want one high blindness naming %s", severities(got), got, file)
	}
	if got := hb("b1", 20*time.Second, file); len(got) != 0 {
		t.Fatalf("the same blind path raised %q again", raised(got))
	}
	if got := hb("b1", 30*time.Second, file, proc); severities(got) != RuleSensorBlind+"/high" ||
		!strings.Contains(got[0].Alert.Summary, proc) || strings.Contains(got[0].Alert.Summary, file) {
		t.Fatalf("a second blind path raised %v, want one naming only %s", got, proc)
	}
	if got := hb("b1", 40*time.Second); len(got) != 0 {
		t.Fatalf("paths seeing again raised %q", raised(got))
	}
	if got := hb("b1", 50*time.Second, file); severities(got) != RuleSensorBlind+"/high" {
		t.Fatalf("a path blind again raised %q, want a new blindness", raised(got))
	}
	if got := hb("b2", 60*time.Second, file); !strings.Contains(raised(got), RuleSensorBlind) {
		t.Fatalf("a restart still blind raised %q, want a blindness", raised(got))
	}
}

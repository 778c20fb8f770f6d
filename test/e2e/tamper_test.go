package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// tamperHost is one enrolled agent's configuration beside a collector.
type tamperHost struct {
	c       *collector
	agentID string
	cfg     string // agent.hcl
	seed    string
	port    int // the collector's NATS
}

// newTamperHost enrols an agent with a collector of its own, heartbeats
// every heartbeat and only the given sensors on.
func newTamperHost(t *testing.T, heartbeat string, sensors ...string) *tamperHost {
	t.Helper()
	data := t.TempDir()
	port := testproc.FreePort(t)
	c := startCollector(t, data, port)
	pc := enrolled(t, data, "leeds", "")
	dir := t.TempDir()
	creds := filepath.Join(dir, "agent.creds")
	os.WriteFile(creds, fmt.Appendf(nil, "site = %q\nhost = \"ws-e2e\"\nagent_id = %q\nseed = %q\n",
		pc.Identity.Site, pc.Identity.AgentID, pc.Identity.Seed), 0o600)
	var on strings.Builder
	for _, s := range []string{"process", "file", "net", "db"} {
		fmt.Fprintf(&on, "  %s = %v\n", s, slices.Contains(sensors, s))
	}
	hcl := fmt.Sprintf(`state_dir = %q
rules_dir = %q
sensors {
%s}
collector {
  url       = "nats://127.0.0.1:%d"
  creds     = %q
  heartbeat = %q
}
`, filepath.Join(dir, "state"), filepath.Join(dir, "no-rules"), on.String(), port, creds, heartbeat)
	cfg := filepath.Join(dir, "agent.hcl")
	os.WriteFile(cfg, []byte(hcl), 0o600)
	return &tamperHost{c: c, agentID: pc.Identity.AgentID, cfg: cfg, seed: pc.Identity.Seed, port: port}
}

// alerts returns the host's agent's alerts of rule, oldest first.
func (h *tamperHost) alerts(t *testing.T, rule string) []*event.Event {
	t.Helper()
	var rows []store.Alert
	h.c.get(t, "/api/alerts?rule="+rule+"&agent_id="+h.agentID, &rows)
	var out []*event.Event
	for i := len(rows) - 1; i >= 0; i-- {
		out = append(out, rows[i].Event)
	}
	return out
}

// waitAlerts waits for n alerts of rule and returns them.
func (h *tamperHost) waitAlerts(t *testing.T, rule string, n int, wait time.Duration) []*event.Event {
	t.Helper()
	var got []*event.Event
	testproc.CheckFor(t, wait, poll, func() error {
		if got = h.alerts(t, rule); len(got) < n {
			return fmt.Errorf("%d %s alerts, waiting for %d", len(got), rule, n)
		}
		return nil
	})
	return got
}

// waitOK waits until the collector has heard from the agent, running.
func (h *tamperHost) waitOK(t *testing.T) {
	t.Helper()
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		var agents []struct {
			AgentID string `json:"agent_id"`
			Status  string `json:"status"`
		}
		h.c.get(t, "/api/agents", &agents)
		if len(agents) != 1 || agents[0].AgentID != h.agentID || agents[0].Status != "ok" {
			return fmt.Errorf("agents %+v, waiting for %s with status ok", agents, h.agentID)
		}
		return nil
	})
}

// fakeSystemctl is a directory holding a systemctl that says the system is
// in state, for an agent run with it first in PATH.
func fakeSystemctl(t *testing.T, state string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "systemctl"), []byte("#!/bin/sh\necho "+state+"\nexit 1\n"), 0o755)
	return dir
}

// systemctl stop on a host that keeps running is high, and raised again
// while the agent stays stopped; a stop during a host shutdown is info.
func TestAgentStopDuringShutdownOrNot(t *testing.T) {
	testkernel.RequireRoot(t)
	t.Run("host keeps running", func(t *testing.T) {
		h := newTamperHost(t, "1s", "process")
		// Whatever this machine runs, its systemd is not stopping.
		ag := startAgentProcess(t, h.cfg, 1, "env", "PATH="+fakeSystemctl(t, "running")+":"+os.Getenv("PATH"))
		h.waitOK(t)
		stopped := time.Now()
		ag.Stop(syscall.SIGTERM, 30*time.Second)
		got := h.waitAlerts(t, "vigil_agent_stopped", 1, 10*time.Second)
		if got[0].Alert.Severity != event.SeverityHigh {
			t.Fatalf("stop alert %q at %s, want high", got[0].Alert.Summary, got[0].Alert.Severity)
		}
		// Escalation: six 1 s intervals after the stop, critical.
		got = h.waitAlerts(t, "vigil_agent_stopped", 2, 20*time.Second)
		if got[1].Alert.Severity != event.SeverityCritical || time.Since(stopped) < 6*time.Second {
			t.Fatalf("second stop alert %q at %s after %v, want critical after six intervals", got[1].Alert.Summary,
				got[1].Alert.Severity, time.Since(stopped))
		}
		if n := len(h.alerts(t, "vigil_host_shutdown")); n != 0 {
			t.Fatalf("%d host shutdown alerts for a stop on a running host", n)
		}
	})
	t.Run("host shutting down", func(t *testing.T) {
		h := newTamperHost(t, "1s", "process")
		ag := startAgentProcess(t, h.cfg, 1, "env", "PATH="+fakeSystemctl(t, "stopping")+":"+os.Getenv("PATH"))
		h.waitOK(t)
		ag.Stop(syscall.SIGTERM, 30*time.Second)
		got := h.waitAlerts(t, "vigil_host_shutdown", 1, 10*time.Second)
		if got[0].Alert.Severity != event.SeverityInfo {
			t.Fatalf("shutdown alert %q at %s, want info", got[0].Alert.Summary, got[0].Alert.Severity)
		}
		if n := len(h.alerts(t, "vigil_agent_stopped")); n != 0 {
			t.Fatalf("%d agent stopped alerts for a host shutdown", n)
		}
		if !strings.Contains(ag.Log(), `host_shutdown=true because="systemd: stopping"`) {
			t.Fatalf("the agent's log does not say why it took the host for shutting down:\n%s", ag.Log())
		}
	})
}

// A frozen agent (SIGSTOP) and a killed one (SIGKILL) send no farewell:
// each raises the silent alert once three 1 s heartbeats are missed, and
// again, critical, while the silence lasts.
func TestAgentFrozenOrKilledIsSilentAndEscalates(t *testing.T) {
	testkernel.RequireRoot(t)
	h := newTamperHost(t, "1s", "process")
	ag := startAgentProcess(t, h.cfg, 1)
	h.waitOK(t)
	// Stated: three intervals, plus the collector's 1 s check and delivery.
	const within = 3*time.Second + 3*time.Second

	frozen := time.Now()
	ag.Signal(syscall.SIGSTOP)
	got := h.waitAlerts(t, "vigil_agent_silent", 1, 30*time.Second)
	if after := time.Since(frozen); after > within || got[0].Alert.Severity != event.SeverityHigh {
		t.Fatalf("frozen: first silent alert %s after %v, want high within %v", got[0].Alert.Severity, after, within)
	}
	got = h.waitAlerts(t, "vigil_agent_silent", 2, 30*time.Second)
	if got[1].Alert.Severity != event.SeverityCritical {
		t.Fatalf("frozen: second silent alert %s, want critical", got[1].Alert.Severity)
	}
	ag.Signal(syscall.SIGCONT)
	h.waitOK(t)

	n := len(h.alerts(t, "vigil_agent_silent"))
	killed := time.Now()
	ag.Stop(syscall.SIGKILL, 0)
	got = h.waitAlerts(t, "vigil_agent_silent", n+1, 30*time.Second)
	if after := time.Since(killed); after > within || got[n].Alert.Severity != event.SeverityHigh {
		t.Fatalf("killed: silent alert %s after %v, want high within %v", got[n].Alert.Severity, after, within)
	}
	got = h.waitAlerts(t, "vigil_agent_silent", n+2, 30*time.Second)
	if got[n+1].Alert.Severity != event.SeverityCritical {
		t.Fatalf("killed: second silent alert %s, want critical", got[n+1].Alert.Severity)
	}
	if s := len(h.alerts(t, "vigil_agent_stopped")); s != 0 {
		t.Fatalf("%d stop alerts without a farewell", s)
	}
}

// cgroupLinks lists the ids of the cgroup links pid holds, from its fdinfo.
func cgroupLinks(t *testing.T, pid int) []string {
	t.Helper()
	fds, err := filepath.Glob(fmt.Sprintf("/proc/%d/fdinfo/*", pid))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, fd := range fds {
		b, err := os.ReadFile(fd)
		if err != nil || !strings.Contains(string(b), "link_type:\tcgroup") {
			continue
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if id, ok := strings.CutPrefix(line, "link_id:\t"); ok {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// A clean restart raises no detachment; a root user detaching one of the
// running agent's links with bpftool does, within one heartbeat.
func TestBPFToolDetachIsReportedWithinOneHeartbeat(t *testing.T) {
	testkernel.RequireRoot(t)
	bpftool := needBPFTool(t)
	const every = 2 * time.Second
	h := newTamperHost(t, every.String(), "net")
	ag := startAgentProcess(t, h.cfg, 1)
	h.waitOK(t)
	ag.Stop(syscall.SIGTERM, 30*time.Second)
	h.waitAlerts(t, "vigil_agent_stopped", 1, 10*time.Second)
	ag = startAgentProcess(t, h.cfg, 1)
	h.waitOK(t)
	// A heartbeat of the new boot with its sensors running.
	beats := func() error {
		var rows []struct {
			Heartbeat *event.Heartbeat `json:"heartbeat"`
		}
		h.c.get(t, "/api/agents", &rows)
		if len(rows) != 1 || rows[0].Heartbeat == nil || len(rows[0].Heartbeat.Sensors) == 0 {
			return fmt.Errorf("agents %+v, waiting for a heartbeat with its sensors", rows)
		}
		return nil
	}
	testproc.CheckFor(t, 30*time.Second, poll, beats)
	if got := h.alerts(t, "vigil_sensor_detached"); len(got) != 0 {
		t.Fatalf("a clean stop and restart raised %q", got[0].Alert.Summary)
	}

	links := cgroupLinks(t, ag.Pid())
	if len(links) == 0 {
		t.Fatalf("the agent holds no cgroup link (net sensor)")
	}
	detached := time.Now()
	if out, err := exec.Command(bpftool, "link", "detach", "id", links[0]).CombinedOutput(); err != nil {
		t.Fatalf("bpftool link detach id %s: %v: %s", links[0], err, out)
	}
	got := h.waitAlerts(t, "vigil_sensor_detached", 1, 30*time.Second)
	// One heartbeat, plus delivery and the collector's 1 s of slack.
	if after := time.Since(detached); after > every+2*time.Second {
		t.Fatalf("detachment alert %v after bpftool, more than one %v heartbeat", after, every)
	}
	if a := got[0].Alert; a.Severity != event.SeverityHigh || !strings.Contains(a.Summary, "link "+links[0]+" ") {
		t.Fatalf("alert %q at %s, want high naming link %s", a.Summary, a.Severity, links[0])
	}
}

// An agent's key refused by NATS for publishing on another agent's
// subject, subscribing to everything or calling the JetStream API raises
// an alert naming the agent, for each kind of operation.
func TestAgentKeyPermissionViolations(t *testing.T) {
	h := newTamperHost(t, "1s")
	kp, err := nkeys.FromSeed([]byte(h.seed))
	if err != nil {
		t.Fatalf("reading the agent's key: %v", err)
	}
	pub, _ := kp.PublicKey()
	// The collector takes up a new enrolment within a second.
	var nc *nats.Conn
	testproc.CheckFor(t, 30*time.Second, poll, func() (err error) {
		nc, err = nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", h.port), nats.Nkey(pub, kp.Sign),
			nats.CustomInboxPrefix("_INBOX."+h.agentID), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
		return err
	})
	defer nc.Close()
	nc.Publish(event.Subject("leeds", "ag-someone-else", event.ClassEvents), []byte("{}"))
	nc.Subscribe(">", func(*nats.Msg) {})
	nc.Request("$JS.API.STREAM.DELETE.VIGIL", nil, 500*time.Millisecond)
	nc.Flush()
	got := h.waitAlerts(t, "vigil_nats_permission_violation", 3, 30*time.Second)
	var all string
	for _, a := range got {
		if a.AgentID != h.agentID || a.Alert.Severity != event.SeverityHigh || !strings.Contains(a.Alert.Summary, h.agentID) {
			t.Errorf("alert %q about %s at %s, want high naming %s", a.Alert.Summary, a.AgentID, a.Alert.Severity, h.agentID)
		}
		all += a.Alert.Summary + "\n"
	}
	for _, want := range []string{"ag-someone-else", `">"`, "$JS.API.STREAM.DELETE.VIGIL"} {
		if !strings.Contains(all, want) {
			t.Errorf("no alert names %s:\n%s", want, all)
		}
	}
}

// agentMap returns the id of the map named name that the agent process pid
// holds, from its fdinfo and bpftool.
func agentMap(t *testing.T, pid int, name string) string {
	t.Helper()
	fds, err := filepath.Glob(fmt.Sprintf("/proc/%d/fdinfo/*", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		b, err := os.ReadFile(fd)
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			id, ok := strings.CutPrefix(line, "map_id:\t")
			if !ok {
				continue
			}
			out, err := exec.Command("bpftool", "-j", "map", "show", "id", id).Output()
			if err == nil && strings.Contains(string(out), `"name":"`+name+`"`) {
				return id
			}
		}
	}
	t.Fatalf("agent %d holds no map named %s", pid, name)
	return ""
}

// needBPFTool is bpftool's path; a host without it skips (fails under CI).
func needBPFTool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("bpftool")
	if err != nil {
		testenv.Skip(t, "bpftool is not installed")
	}
	return path
}

// tamperMap runs `bpftool map OP id <the agent's map named name> ARGS...`
// as a root user would, and returns when it did.
func tamperMap(t *testing.T, pid int, name, op string, args ...string) time.Time {
	t.Helper()
	bpftool := needBPFTool(t)
	args = append([]string{"map", op, "id", agentMap(t, pid, name)}, args...)
	tampered := time.Now()
	if out, err := exec.Command(bpftool, args...).CombinedOutput(); err != nil {
		t.Fatalf("bpftool %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return tampered
}

// wantBlind waits for the vigil_sensor_blind alert a map tampered with at
// tampered must raise within one heartbeat (every), the canary's wait,
// delivery and the collector's 1 s: high, its summary holding want, and no
// detachment alert, since every program stays attached.
func (h *tamperHost) wantBlind(t *testing.T, tampered time.Time, every time.Duration, want string) {
	t.Helper()
	got := h.waitAlerts(t, "vigil_sensor_blind", 1, 30*time.Second)
	if after := time.Since(tampered); after > every+3*time.Second+2*time.Second {
		t.Fatalf("blindness alert %v after bpftool, more than one %v heartbeat and the canary's wait", after, every)
	}
	if a := got[0].Alert; a.Severity != event.SeverityHigh || !strings.Contains(a.Summary, want) {
		t.Fatalf("alert %q at %s, want high naming %q", a.Summary, a.Severity, want)
	}
	if n := len(h.alerts(t, "vigil_sensor_detached")); n != 0 {
		t.Fatalf("%d detachment alerts for a map rewritten under attached programs", n)
	}
}

// idleWithoutBlindness watches heartbeats for d and fails at any
// vigil_sensor_blind alert; then fails if any stored event of the agent's
// body matches one of likes (SQL LIKE patterns of its canary's activity).
func (h *tamperHost) idleWithoutBlindness(t *testing.T, d, every time.Duration, likes ...string) {
	t.Helper()
	idle := time.Now()
	for time.Since(idle) < d {
		if got := h.alerts(t, "vigil_sensor_blind"); len(got) != 0 {
			t.Fatalf("an untouched agent raised %q", got[0].Alert.Summary)
		}
		time.Sleep(every) // the idle heartbeats are what is tested: nothing to wait for
	}
	db, err := openStoreRO(h.c.Data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, like := range likes {
		var leaked int
		if err := db.QueryRow(`SELECT count(*) FROM events WHERE agent_id = ? AND body LIKE ?`, h.agentID, like).Scan(&leaked); err != nil {
			t.Fatal(err)
		}
		if leaked != 0 {
			t.Fatalf("%d events matching %q of the agent's canary reached the collector", leaked, like)
		}
	}
}

// A root user rewriting a filter map of the running agent's file sensor
// (skip_magics given the file system of its state directory, with bpftool:
// every program stays attached and running, only its records stop) is
// reported within one heartbeat and its canary, naming the file path;
// a clean stop and restart and a minute of an idle host raise nothing of
// the kind, and the canary's own activity never reaches the collector.
func TestMapTamperBlindingASensorIsReported(t *testing.T) {
	testkernel.RequireRoot(t)
	needBPFTool(t)
	const every = 2 * time.Second
	h := newTamperHost(t, every.String(), "process", "file")
	ag := startAgentProcess(t, h.cfg, 2)
	h.waitOK(t)
	ag.Stop(syscall.SIGTERM, 30*time.Second)
	h.waitAlerts(t, "vigil_agent_stopped", 1, 10*time.Second)
	ag = startAgentProcess(t, h.cfg, 2)
	h.waitOK(t)
	h.idleWithoutBlindness(t, time.Minute, every, "%vigil-selfcheck%", "%selfcheck/canary%")

	state := filepath.Join(filepath.Dir(h.cfg), "state")
	var st syscall.Statfs_t
	if err := syscall.Statfs(state, &st); err != nil {
		t.Fatal(err)
	}
	m := uint32(st.Type)
	key := []string{"key"}
	for i := range 4 {
		key = append(key, fmt.Sprintf("0x%02x", byte(m>>(8*i))))
	}
	tampered := tamperMap(t, ag.Pid(), "skip_magics", "update", append(key, "value", "0x01")...)
	h.wantBlind(t, tampered, every, "file: the canary's write to")
}

// A root user writing a pid into the nats_server_pid map the agent's
// sensors share (bpftool map update: that process is then ignored as the
// agent's NATS server is, by the net sensor and every other, programs still
// attached) is reported within one heartbeat and its canary, naming the
// map; the net sensor's canary query raises nothing on an untouched agent
// and never reaches the collector.
func TestMapTamperBlindingTheNetSensorIsReported(t *testing.T) {
	testkernel.RequireRoot(t)
	needBPFTool(t)
	const every = 2 * time.Second
	h := newTamperHost(t, every.String(), "net")
	ag := startAgentProcess(t, h.cfg, 1)
	h.waitOK(t)
	h.idleWithoutBlindness(t, 5*every, every, "%127.86.71.76%")

	hidden := os.Getpid() // the process a root user would hide
	key := []string{"key", "0", "0", "0", "0", "value"}
	for i := range 4 {
		key = append(key, fmt.Sprintf("0x%02x", byte(hidden>>(8*i))))
	}
	tampered := tamperMap(t, ag.Pid(), "vigil_nats_pid", "update", key...)
	h.wantBlind(t, tampered, every, fmt.Sprintf("nats_server_pid holds pid %d", hidden))
}

// A root user deleting port 5432 from the running agent's db_ports map
// (bpftool map delete: every db program stays attached, PostgreSQL
// connections are no longer captured) is reported within one heartbeat,
// naming the map and the port.
func TestDBPortsEmptiedIsReported(t *testing.T) {
	testkernel.RequireRoot(t)
	needBPFTool(t)
	const every = 2 * time.Second
	h := newTamperHost(t, every.String(), "db")
	ag := startAgentProcess(t, h.cfg, 1)
	h.waitOK(t)
	tampered := tamperMap(t, ag.Pid(), "db_ports", "delete", "key", "0x38", "0x15") // 5432, little-endian
	h.wantBlind(t, tampered, every, "db: db_ports no longer holds port 5432")
}

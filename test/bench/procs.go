package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// checkPrerequisites names what is missing and how to install it.
func checkPrerequisites(o options) []string {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root: the agent loads eBPF programs and auditd needs CAP_AUDIT_CONTROL (sudo make bench)")
	}
	if _, err := exec.LookPath("go"); err != nil {
		missing = append(missing, "go: the driver builds the binaries it measures")
	}
	if o.figures["1"] {
		if pgBin("initdb") == "" || pgBin("postgres") == "" || pgBin("pgbench") == "" {
			missing = append(missing, "PostgreSQL server and pgbench: apt-get install postgresql postgresql-contrib")
		}
		if _, err := user.Lookup("postgres"); err != nil && os.Geteuid() == 0 {
			missing = append(missing, "a postgres user to run the server as (created by apt-get install postgresql)")
		}
	}
	if o.figures["1"] || o.figures["2"] || o.figures["3"] {
		if _, err := exec.LookPath("bpftool"); err != nil {
			missing = append(missing, "bpftool (reads the agent's in-kernel loss counters): apt-get install bpftool")
		}
	}
	if _, err := exec.LookPath("curl"); err != nil && (o.figures["5"] || o.figures["6"]) {
		missing = append(missing, "curl (fetches the agent's CPU profiles): apt-get install curl")
	}
	if o.figures["1"] || o.figures["2"] {
		for _, b := range []string{"auditd", "auditctl"} {
			if _, err := exec.LookPath(b); err != nil {
				missing = append(missing, b+": apt-get install auditd")
				break
			}
		}
		if _, err := os.Stat("/etc/audit/auditd.conf"); err != nil {
			missing = append(missing, "/etc/audit/auditd.conf: apt-get install auditd")
		}
		if _, err := exec.LookPath("nice"); err != nil {
			missing = append(missing, "nice: apt-get install coreutils")
		}
	}
	return missing
}

// pgBin finds a PostgreSQL program, the newest installed version first.
func pgBin(name string) string {
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(m) > 0 {
		return m[len(m)-1]
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is a child process logging to a file.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func startProc(logPath string, name string, args ...string) (*proc, error) {
	return startProcAs(nil, logPath, name, args...)
}

func startProcAs(cred *syscall.Credential, logPath string, name string, args ...string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", filepath.Base(name), err)
	}
	p := &proc{name: filepath.Base(name), cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { cmd.Wait(); f.Close(); close(p.done) }()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits up to d before killing the process; it says
// whether it had to kill.
func (p *proc) stop(sig syscall.Signal, d time.Duration) (killed bool) {
	if p == nil || p.exited() {
		return false
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return false
	case <-time.After(d):
		log.Printf("%s did not stop within %s of %s: killing it", p.name, d, sig)
		p.cmd.Process.Kill()
		<-p.done
		return true
	}
}

// stopUnlessIdle is stop, but kills the process early once it has used no
// CPU for 1.5 s after the signal: it is stuck, not draining.
func (p *proc) stopUnlessIdle(sig syscall.Signal, d time.Duration) (killed bool) {
	if p == nil || p.exited() {
		return false
	}
	p.cmd.Process.Signal(sig)
	deadline := time.Now().Add(d)
	last, _ := sampleProc(p.pid())
	idle := 0
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return false
		case <-time.After(500 * time.Millisecond):
		}
		now, err := sampleProc(p.pid())
		if err != nil {
			continue
		}
		if now.cpuTicks == last.cpuTicks {
			idle++
		} else {
			idle = 0
		}
		last = now
		if idle >= 3 {
			break
		}
	}
	p.cmd.Process.Kill()
	<-p.done
	return true
}

func (p *proc) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// waitLog waits until the log has a line for which ok returns true.
func (p *proc) waitLog(ctx context.Context, d time.Duration, ok func(log string) bool) error {
	deadline := time.Now().Add(d)
	for {
		if ok(p.logText()) {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s exited: %s", p.name, tail(p.logText(), 2000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %s", p.name, d, tail(p.logText(), 2000))
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func run(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, tail(string(out), 1000))
	}
	return string(out), nil
}

// postgres is a throwaway PostgreSQL server on 127.0.0.1 for pgbench.
type postgres struct {
	proc *proc
	port int
	dir  string
}

func startPostgres(ctx context.Context, tmp string) (*postgres, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	dir := filepath.Join(tmp, "pg")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(pgBin("initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w: %s", err, tail(string(out), 1000))
	}
	port := freePort()
	// fsync off makes pgbench CPU-bound rather than bound by a shared
	// virtual disk: the worst case for a monitor's CPU cost, and far less
	// noisy.
	p, err := startProcAs(cred, filepath.Join(tmp, "postgres.log"), pgBin("postgres"), "-D", data, "-k", dir,
		"-p", strconv.Itoa(port), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
		"-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "logging_collector=off",
		"-c", "shared_buffers=256MB", "-c", "max_connections=50")
	if err != nil {
		return nil, err
	}
	pg := &postgres{proc: p, port: port, dir: dir}
	if err := p.waitLog(ctx, 60*time.Second, func(s string) bool {
		return strings.Contains(s, "database system is ready to accept connections")
	}); err != nil {
		pg.stop()
		return nil, err
	}
	return pg, nil
}

func (pg *postgres) stop() {
	if pg != nil {
		pg.proc.stop(syscall.SIGINT, 30*time.Second)
	}
}

func (pg *postgres) pgbenchArgs(extra ...string) []string {
	return append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(pg.port), "-U", "postgres"}, extra...)
}

var tpsRe = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbench runs the built-in TPC-B-like script and returns its TPS.
func (pg *postgres) pgbench(seconds int) (float64, error) {
	out, err := run(pgBin("pgbench"), pg.pgbenchArgs("-n", "-c", "4", "-j", "2", "-T", strconv.Itoa(seconds), "bench")...)
	if err != nil {
		return 0, err
	}
	m := tpsRe.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench printed no tps: %s", tail(out, 1000))
	}
	return strconv.ParseFloat(m[1], 64)
}

// collector is vigil-collector with its embedded NATS server.
type collector struct {
	proc     *proc
	api      string
	natsPort int
}

func (b *bench) startCollector(niced bool) (*collector, error) {
	httpPort, natsPort := freePort(), b.natsPort
	args := []string{"run", "--data", filepath.Join(b.site, "collector"), "--nats-listen", fmt.Sprintf("127.0.0.1:%d", natsPort),
		"--http", fmt.Sprintf("127.0.0.1:%d", httpPort), "--rules", b.packs(), "--host-rules", b.packs()}
	name := filepath.Join(b.bin, "vigil-collector")
	if niced {
		// Stands in for a collector on another machine: it gets only the
		// CPU the workload leaves, and what it still takes counts against
		// the agent.
		args = append([]string{"-n", "19", name}, args...)
		name = "nice"
	}
	p, err := startProc(filepath.Join(b.site, "collector.log"), name, args...)
	if err != nil {
		return nil, err
	}
	c := &collector{proc: p, api: fmt.Sprintf("http://127.0.0.1:%d", httpPort), natsPort: natsPort}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(c.api + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return c, nil
			}
		}
		if p.exited() || time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("collector not ready: %s", tail(p.logText(), 2000))
		}
		if err := sleep(b.ctx, 100*time.Millisecond); err != nil {
			c.stop()
			return nil, err
		}
	}
}

func (c *collector) stop() {
	if c != nil {
		c.proc.stop(syscall.SIGTERM, 30*time.Second)
	}
}

// counters are the collector's message and loss counters.
type counters struct {
	stored float64
	lost   map[string]float64
}

func (c counters) lostTotal() float64 {
	t := 0.0
	for _, v := range c.lost {
		t += v
	}
	return t
}

var metricRe = regexp.MustCompile(`^(vigil_collector_messages_total|vigil_collector_lost_events_total)\{(?:result|reason)="([^"]*)"\} ([0-9.e+]+)$`)

func (c *collector) counters() (counters, error) {
	resp, err := http.Get(c.api + "/metrics")
	if err != nil {
		return counters{}, err
	}
	defer resp.Body.Close()
	out := counters{lost: map[string]float64{}}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := metricRe.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[3], 64)
		switch {
		case m[1] == "vigil_collector_messages_total" && (m[2] == "stored" || m[2] == "duplicate"):
			out.stored += v
		case m[1] == "vigil_collector_lost_events_total":
			out.lost[m[2]] += v
		}
	}
	return out, sc.Err()
}

// drain waits until the collector has stored nothing new for quiet, or
// until limit; it returns the counters then and how long it waited.
func (b *bench) drain(c *collector, quiet, limit time.Duration) (counters, time.Duration, error) {
	start := time.Now()
	last, err := c.counters()
	if err != nil {
		return last, 0, err
	}
	lastChange := time.Now()
	for time.Since(start) < limit {
		if err := sleep(b.ctx, 200*time.Millisecond); err != nil {
			return last, time.Since(start), err
		}
		now, err := c.counters()
		if err != nil {
			return last, time.Since(start), err
		}
		if now.stored != last.stored || now.lostTotal() != last.lostTotal() {
			last, lastChange = now, time.Now()
		} else if time.Since(lastChange) >= quiet {
			return now, lastChange.Sub(start), nil
		}
	}
	return last, time.Since(start), nil
}

// alert is what /api/alerts returns, as far as the bench needs it.
type alert struct {
	N        int64     `json:"n"`
	Received time.Time `json:"received"`
	Event    struct {
		Time    time.Time `json:"time"`
		Process struct {
			PID int `json:"pid"`
		} `json:"process"`
		Alert struct {
			Rule string `json:"rule"`
		} `json:"alert"`
	} `json:"event"`
	seen time.Time // when the bench's poll returned it
}

func (c *collector) alertsAfter(ctx context.Context, after int64, rule string, wait time.Duration) ([]alert, error) {
	req, err := http.NewRequestWithContext(ctx, "GET",
		fmt.Sprintf("%s/api/alerts?after=%d&rule=%s&wait=%s", c.api, after, rule, wait), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("/api/alerts: %s: %s", resp.Status, b)
	}
	var list []alert
	return list, json.NewDecoder(resp.Body).Decode(&list)
}

// lastAlert returns the number of the newest alert stored.
func (c *collector) lastAlert(ctx context.Context) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.api+"/api/alerts?limit=1", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var list []alert
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return 0, err
	}
	if len(list) == 0 {
		return 0, nil
	}
	return list[0].N, nil
}

// agent is a running vigil-agent.
type agent struct {
	proc  *proc
	pprof string
}

// agentStopped is what the agent logs when it stops.
type agentStopped struct {
	events       uint64
	kernelDrops  string // as logged: map[db:0 file:0 ...]
	dropsTotal   uint64
	stillSpooled uint64 // events the publisher had not handed to JetStream after its drain timeout
	killed       bool   // it did not exit on SIGINT in time
}

func (b *bench) writeAgentConfig() error {
	state := filepath.Join(b.site, "agent")
	spoolLimit := ""
	if b.spoolMaxMiB > 0 {
		spoolLimit = fmt.Sprintf("  spool_max_mib = %d\n", b.spoolMaxMiB)
	}
	ports := "5432, 3306"
	if b.pg != nil {
		ports += fmt.Sprintf(", %d", b.pg.port)
	}
	cfg := fmt.Sprintf(`# vigil-agent for make bench: the default pack, publishing to the local collector.
state_dir = %q
rules_dir = %q

# Loopback traffic is all a one-machine benchmark has: watch it like any other.
net {
  include_loopback = true
}

db {
  ports = [%s]
}

collector {
  url       = "nats://127.0.0.1:%d"
  creds     = %q
  spool_dir = %q
%s}
`, state, b.packs(), ports, b.natsPort, b.creds, filepath.Join(state, "spool"), spoolLimit)
	b.agentConfig = filepath.Join(b.site, "agent.hcl")
	return os.WriteFile(b.agentConfig, []byte(cfg), 0o600)
}

func (b *bench) startAgent(withPprof bool) (*agent, error) {
	args := []string{"run", "--config", b.agentConfig}
	a := &agent{}
	if withPprof {
		a.pprof = fmt.Sprintf("127.0.0.1:%d", freePort())
		args = append(args, "--pprof", a.pprof)
	}
	p, err := startProc(filepath.Join(b.site, fmt.Sprintf("agent-%d.log", time.Now().UnixNano())), filepath.Join(b.bin, "vigil-agent"), args...)
	if err != nil {
		return nil, err
	}
	a.proc = p
	// Ready when every sensor has said whether it runs.
	err = p.waitLog(b.ctx, 60*time.Second, func(s string) bool {
		return strings.Count(s, `msg="sensor running"`)+strings.Count(s, `msg="sensor cannot run"`) >= 4
	})
	if err != nil {
		a.stop()
		return nil, err
	}
	if n := strings.Count(p.logText(), `msg="sensor cannot run"`); n > 0 {
		log.Printf("warning: %d agent sensors cannot run here: %s", n, p.log)
	}
	return a, nil
}

var (
	stoppedRe = regexp.MustCompile(`vigil-agent stopped, probes detached" events=(\d+) kernel_drops="?(map\[[^\]]*\])`)
	spooledRe = regexp.MustCompile(`(\d+) events still spooled`)
	dropRe    = regexp.MustCompile(`:(\d+)`)
)

func parseAgentStop(log string) (agentStopped, bool) {
	m := stoppedRe.FindStringSubmatch(log)
	if m == nil {
		return agentStopped{}, false
	}
	st := agentStopped{kernelDrops: m[2]}
	st.events, _ = strconv.ParseUint(m[1], 10, 64)
	for _, d := range dropRe.FindAllStringSubmatch(m[2], -1) {
		n, _ := strconv.ParseUint(d[1], 10, 64)
		st.dropsTotal += n
	}
	if m := spooledRe.FindStringSubmatch(log); m != nil {
		st.stillSpooled, _ = strconv.ParseUint(m[1], 10, 64)
	}
	return st, true
}

func (a *agent) stop() agentStopped {
	if a == nil || a.proc == nil {
		return agentStopped{}
	}
	killed := a.proc.stopUnlessIdle(syscall.SIGINT, agentStopWait)
	st, ok := parseAgentStop(a.proc.logText())
	if !ok {
		st = agentStopped{kernelDrops: "unknown: no stop line"}
	}
	st.killed = killed
	return st
}

// agentStopWait bounds how long the agent may take to exit on SIGINT: its
// publisher drains for up to 5 s first.
const agentStopWait = 12 * time.Second

// kernelDrops sums the agent's in-kernel loss counters (every sensor's
// "drops" per-CPU array, found through the map fds the agent holds), so
// the bench need not rely on the agent's exit line.
func kernelDrops(pid int) (uint64, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	var total uint64
	found := 0
	for _, fd := range fds {
		if t, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); t != "anon_inode:bpf-map" {
			continue
		}
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name()))
		if err != nil || !strings.Contains(string(info), "map_type:\t6\n") { // BPF_MAP_TYPE_PERCPU_ARRAY
			continue
		}
		id := parseStatusKiB(string(info), "map_id:")
		out, err := run("bpftool", "-j", "map", "show", "id", strconv.FormatUint(id, 10))
		if err != nil {
			return 0, err
		}
		var m struct{ Name string }
		if json.Unmarshal([]byte(out), &m) != nil || m.Name != "drops" {
			continue
		}
		if out, err = run("bpftool", "-j", "map", "dump", "id", strconv.FormatUint(id, 10)); err != nil {
			return 0, err
		}
		n, err := sumPerCPU(out)
		if err != nil {
			return 0, err
		}
		total += n
		found++
	}
	if found == 0 {
		return 0, errors.New("no drops maps among the agent's file descriptors")
	}
	return total, nil
}

// sumPerCPU adds every value of a bpftool -j dump of a per-CPU array of
// u64, using the BTF-formatted values when present.
func sumPerCPU(dump string) (uint64, error) {
	var entries []struct {
		Values []struct {
			Value []string `json:"value"`
		} `json:"values"`
		Formatted *struct {
			Values []struct {
				Value uint64 `json:"value"`
			} `json:"values"`
		} `json:"formatted"`
	}
	if err := json.Unmarshal([]byte(dump), &entries); err != nil {
		return 0, fmt.Errorf("reading bpftool map dump: %w", err)
	}
	var total uint64
	for _, e := range entries {
		if e.Formatted != nil {
			for _, v := range e.Formatted.Values {
				total += v.Value
			}
			continue
		}
		for _, v := range e.Values {
			var n uint64
			for i, h := range v.Value { // little-endian bytes as "0x.."
				b, err := strconv.ParseUint(strings.TrimPrefix(h, "0x"), 16, 8)
				if err != nil {
					return 0, fmt.Errorf("reading bpftool map dump: %w", err)
				}
				n |= b << (8 * i)
			}
			total += n
		}
	}
	return total, nil
}

// bpfRunTime switches kernel.bpf_stats_enabled on while fn runs and returns
// the run time of the agent's programs (those it holds file descriptors
// for), most expensive first, and how long the window was.
func bpfRunTime(pid int, fn func() error) ([]bpfStat, time.Duration, error) {
	const knob = "/proc/sys/kernel/bpf_stats_enabled"
	prev, err := os.ReadFile(knob)
	if err != nil {
		return nil, 0, err
	}
	ids, err := agentProgIDs(pid)
	if err != nil {
		return nil, 0, err
	}
	if err := os.WriteFile(knob, []byte("1"), 0o644); err != nil {
		return nil, 0, err
	}
	defer os.WriteFile(knob, prev, 0o644)
	before := progStats(ids)
	start := time.Now()
	ferr := fn()
	window := time.Since(start)
	after := progStats(ids)
	var out []bpfStat
	for id, a := range after {
		b := before[id]
		if a.runs > b.runs {
			out = append(out, bpfStat{name: a.name, runs: a.runs - b.runs, ns: a.ns - b.ns})
		}
	}
	slices.SortFunc(out, func(x, y bpfStat) int { return int(y.ns - x.ns) })
	return out, window, ferr
}

func agentProgIDs(pid int) ([]uint64, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	var ids []uint64
	for _, fd := range fds {
		if t, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); t != "anon_inode:bpf-prog" {
			continue
		}
		if info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name())); err == nil {
			if id := parseStatusKiB(string(info), "prog_id:"); id != 0 {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

func progStats(ids []uint64) map[uint64]bpfStat {
	out := map[uint64]bpfStat{}
	for _, id := range ids {
		js, err := run("bpftool", "-j", "prog", "show", "id", strconv.FormatUint(id, 10))
		if err != nil {
			continue
		}
		var p struct {
			Name      string `json:"name"`
			RunTimeNS uint64 `json:"run_time_ns"`
			RunCnt    uint64 `json:"run_cnt"`
		}
		if json.Unmarshal([]byte(js), &p) == nil {
			out[id] = bpfStat{name: p.Name, runs: p.RunCnt, ns: time.Duration(p.RunTimeNS)}
		}
	}
	return out
}

var spoolFullRe = regexp.MustCompile(`msg="spool full: oldest events dropped" count=\d+ total=(\d+)`)

// spoolDropped is the agent's last logged total of records its full spool
// dropped. (Summing the count of each line would count again what a
// dropped loss record carried.)
func spoolDropped(agentLog string) uint64 {
	var n uint64
	for _, m := range spoolFullRe.FindAllStringSubmatch(agentLog, -1) {
		c, _ := strconv.ParseUint(m[1], 10, 64)
		n = max(n, c)
	}
	return n
}

// spoolBacklog counts the records in the agent's spool after its saved
// cursor: events not yet acknowledged by JetStream, as of the agent's last
// flush (every 200 ms). The layout is agent/publish's: <n>.seg files of
// records (4-byte big-endian length, 4-byte CRC, payload) and a cursor
// file "seg offset index".
func spoolBacklog(dir string) (records int64, err error) {
	records, _, err = spoolBacklogBytes(dir)
	return records, err
}

// spoolBacklogBytes is spoolBacklog with the bytes those records take.
func spoolBacklogBytes(dir string) (records, bytes int64, err error) {
	var cseg uint64
	var coff int64
	if b, err := os.ReadFile(filepath.Join(dir, "cursor")); err == nil {
		var idx int64
		fmt.Sscanf(string(b), "%d %d %d", &cseg, &coff, &idx)
	}
	segs, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		return 0, 0, err
	}
	for _, path := range segs {
		n, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(path), ".seg"), 10, 64)
		if err != nil || n < cseg {
			continue
		}
		from := int64(0)
		if n == cseg {
			from = coff
		}
		c, nb, err := countRecords(path, from)
		if err != nil {
			return records, bytes, err
		}
		records += c
		bytes += nb
	}
	return records, bytes, nil
}

func countRecords(path string, off int64) (n, bytes int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	start := off
	var h [4]byte
	for off+8 <= st.Size() {
		if _, err := f.ReadAt(h[:], off); err != nil {
			return n, off - start, err
		}
		next := off + 8 + int64(uint32(h[0])<<24|uint32(h[1])<<16|uint32(h[2])<<8|uint32(h[3]))
		if next > st.Size() {
			break // a record still being written
		}
		off = next
		n++
	}
	return n, off - start, nil
}

// auditd is Linux auditd with rules for what vigil watches.
type auditd struct {
	proc *proc
	dir  string
}

// auditRules ask auditd for the activity vigil's sensors report: program
// starts, opens with write intent (and the other write-class calls auditd's
// perm=w covers: creat, truncate, rename, unlink, ...), and connects.
var auditRules = [][]string{
	{"-a", "always,exit", "-F", "arch=b64", "-S", "execve,execveat", "-k", "vigil_bench_exec"},
	{"-a", "always,exit", "-F", "arch=b64", "-F", "perm=wa", "-k", "vigil_bench_write"},
	{"-a", "always,exit", "-F", "arch=b64", "-S", "connect", "-k", "vigil_bench_connect"},
}

func auditRulesText() string {
	var lines []string
	for _, r := range auditRules {
		lines = append(lines, "auditctl "+strings.Join(r, " "))
	}
	return strings.Join(lines, "\n")
}

func (b *bench) startAuditd() (*auditd, error) {
	if out, _ := run("auditctl", "-s"); regexp.MustCompile(`(?m)^pid [1-9]`).MatchString(out) {
		return nil, errors.New("an auditd is already running: stop it first (its rules would mix with the bench's)")
	}
	dir := filepath.Join(b.tmp, "audit")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	conf, err := os.ReadFile("/etc/audit/auditd.conf")
	if err != nil {
		return nil, err
	}
	logFile := filepath.Join(dir, "audit.log")
	var lines []string
	for _, l := range strings.Split(string(conf), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "log_file") {
			l = "log_file = " + logFile
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(filepath.Join(dir, "auditd.conf"), []byte(strings.Join(lines, "\n")), 0o640); err != nil {
		return nil, err
	}
	p, err := startProc(filepath.Join(b.tmp, fmt.Sprintf("auditd-%d.log", time.Now().UnixNano())), "auditd", "-n", "-c", dir)
	if err != nil {
		return nil, err
	}
	a := &auditd{proc: p, dir: dir}
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _ := run("auditctl", "-s")
		if strings.Contains(out, fmt.Sprintf("pid %d", p.pid())) {
			break
		}
		if p.exited() || time.Now().After(deadline) {
			a.stop()
			return nil, fmt.Errorf("auditd did not register with the kernel: %s", tail(p.logText(), 1000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Debian's audit.rules defaults: a deep backlog, waiting rather than
	// dropping, printk on failure.
	setup := [][]string{{"-D"}, {"-b", "8192"}, {"--backlog_wait_time", "60000"}, {"-f", "1"}}
	setup = append(setup, auditRules...)
	setup = append(setup, []string{"-e", "1"})
	for _, args := range setup {
		if _, err := run("auditctl", args...); err != nil {
			a.stop()
			return nil, err
		}
	}
	return a, nil
}

var auditLostRe = regexp.MustCompile(`(?m)^lost (\d+)`)

func auditLost() uint64 {
	out, _ := run("auditctl", "-s")
	m := auditLostRe.FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	return n
}

// stop disables auditing, removes the rules and stops the daemon, leaving
// the kernel as it was found (auditing off, no rules).
func (a *auditd) stop() (records int) {
	if a == nil {
		return 0
	}
	run("auditctl", "-e", "0")
	run("auditctl", "-D")
	a.proc.stop(syscall.SIGTERM, 20*time.Second)
	logs, _ := filepath.Glob(filepath.Join(a.dir, "audit.log*")) // rotated ones too
	for _, l := range logs {
		records += countLines(l, "type=SYSCALL")
		os.Remove(l)
	}
	return records
}

func countLines(path, substr string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			n++
		}
	}
	return n
}

// loadgen runs test/loadgen and returns the operations per second it did.
type loadgenResult struct {
	ops      int64
	rate     float64
	ringFull uint64 // ring mode: records that found the agent's ring full
}

var (
	loadgenRe  = regexp.MustCompile(`ops=(\d+) seconds=[0-9.]+ rate=([0-9.]+)/s`)
	ringFullRe = regexp.MustCompile(`ring_full=(\d+)`)
)

func (b *bench) loadgen(args ...string) (loadgenResult, error) {
	out, err := run(filepath.Join(b.bin, "loadgen"), args...)
	if err != nil {
		return loadgenResult{}, err
	}
	return parseLoadgen(out)
}

func parseLoadgen(out string) (loadgenResult, error) {
	m := loadgenRe.FindStringSubmatch(out)
	if m == nil {
		return loadgenResult{}, fmt.Errorf("loadgen printed no rate: %s", tail(out, 500))
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	r, _ := strconv.ParseFloat(m[2], 64)
	res := loadgenResult{ops: n, rate: r}
	if m := ringFullRe.FindStringSubmatch(out); m != nil {
		res.ringFull, _ = strconv.ParseUint(m[1], 10, 64)
	}
	return res, nil
}

// procSample is a process's CPU time and memory at one moment.
type procSample struct {
	at       time.Time
	cpuTicks uint64 // utime + stime, in clock ticks
	rssKiB   uint64
	hwmKiB   uint64
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

func sampleProc(pid int) (procSample, error) {
	s := procSample{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	if s.cpuTicks, err = parseStatTicks(string(stat)); err != nil {
		return s, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	s.rssKiB, s.hwmKiB = parseStatusKiB(string(status), "VmRSS:"), parseStatusKiB(string(status), "VmHWM:")
	return s, nil
}

// parseStatTicks returns utime+stime from /proc/<pid>/stat. The command
// name may hold spaces and parentheses, so fields count from the last ')'.
func parseStatTicks(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc/pid/stat")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc/pid/stat")
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed utime or stime in /proc/pid/stat")
	}
	return u + s, nil
}

func parseStatusKiB(status, key string) uint64 {
	for _, l := range strings.Split(status, "\n") {
		if strings.HasPrefix(l, key) {
			f := strings.Fields(strings.TrimPrefix(l, key))
			if len(f) > 0 {
				n, _ := strconv.ParseUint(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

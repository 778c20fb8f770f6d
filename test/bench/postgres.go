package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigilhq/vigil/internal/testproc"
)

// postgres is a throwaway PostgreSQL server on 127.0.0.1 for pgbench.
type postgres struct {
	proc *testproc.Proc
	port int
	dir  string
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
		return nil, fmt.Errorf("initdb: %w: %s", err, testproc.Tail(string(out), 1000))
	}
	port, err := testproc.FindFreePort()
	if err != nil {
		return nil, err
	}
	// fsync off makes pgbench CPU-bound rather than bound by a shared
	// virtual disk: the worst case for a monitor's CPU cost, and far less
	// noisy.
	p, err := startProc(cred, filepath.Join(tmp, "postgres.log"), pgBin("postgres"), "-D", data, "-k", dir,
		"-p", strconv.Itoa(port), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
		"-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "logging_collector=off",
		"-c", "shared_buffers=256MB", "-c", "max_connections=50")
	if err != nil {
		return nil, err
	}
	pg := &postgres{proc: p, port: port, dir: dir}
	if err := p.WaitLog(ctx, 60*time.Second, func(s string) bool {
		return strings.Contains(s, "database system is ready to accept connections")
	}); err != nil {
		pg.stop()
		return nil, err
	}
	return pg, nil
}

func (pg *postgres) stop() {
	if pg != nil {
		stop(pg.proc, syscall.SIGINT, 30*time.Second)
	}
}

func (pg *postgres) pgbenchArgs(extra ...string) []string {
	return append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(pg.port), "-U", "postgres"}, extra...)
}

var tpsRe = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbench runs the built-in TPC-B-like script as fast as it goes and
// returns its TPS.
func (pg *postgres) pgbench(seconds int) (float64, error) {
	out, err := run(pgBin("pgbench"), pg.pgbenchArgs("-n", "-c", "4", "-j", "2", "-T", strconv.Itoa(seconds), "bench")...)
	if err != nil {
		return 0, err
	}
	return parseTPS(out)
}

func parseTPS(out string) (float64, error) {
	m := tpsRe.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench printed no tps: %s", testproc.Tail(out, 1000))
	}
	return strconv.ParseFloat(m[1], 64)
}

// fixedRun is one pgbench run at a fixed rate (-R).
type fixedRun struct {
	tps          float64 // transactions/s it achieved
	transactions int64
	latAvgMs     float64 // from the scheduled start, as pgbench counts it under -R
	latP99Ms     float64
}

// pgbenchFixed runs the same script at rate transactions/s with every
// transaction logged (--log), in dir, so the p99 comes from each
// transaction's latency rather than from pgbench's averages.
func (pg *postgres) pgbenchFixed(dir string, rate, seconds int) (fixedRun, error) {
	prefix := filepath.Join(dir, fmt.Sprintf("pgbench-%d", time.Now().UnixNano()))
	out, err := run(pgBin("pgbench"), pg.pgbenchArgs("-n", "-c", "4", "-j", "2", "-R", strconv.Itoa(rate),
		"-T", strconv.Itoa(seconds), "--log", "--log-prefix", prefix, "bench")...)
	logs, _ := filepath.Glob(prefix + ".*")
	defer func() {
		for _, l := range logs {
			os.Remove(l)
		}
	}()
	if err != nil {
		return fixedRun{}, err
	}
	r := fixedRun{}
	if r.tps, err = parseTPS(out); err != nil {
		return r, err
	}
	var lat []float64
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			return r, fmt.Errorf("reading pgbench's transaction log: %w", err)
		}
		v, err := parseTxLog(string(b))
		if err != nil {
			return r, fmt.Errorf("pgbench's transaction log %s: %w", l, err)
		}
		lat = append(lat, v...)
	}
	if len(lat) == 0 {
		return r, fmt.Errorf("pgbench logged no transactions under %s*: %s", prefix, testproc.Tail(out, 500))
	}
	r.transactions = int64(len(lat))
	sum := 0.0
	for _, v := range lat {
		sum += v
	}
	r.latAvgMs, r.latP99Ms = sum/float64(len(lat)), percentile(lat, 99)
	return r, nil
}

// parseTxLog returns each transaction's latency in ms from pgbench's
// per-transaction log: "client_id transaction_no time script_no
// time_epoch time_us [schedule_lag]", time in µs and, under -R, counted
// from the scheduled start, so it includes the schedule lag.
func parseTxLog(s string) ([]float64, error) {
	var out []float64
	for i, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 6 {
			return out, fmt.Errorf("line %d: %d fields, want at least 6: %q", i+1, len(f), line)
		}
		if f[2] == "skipped" {
			continue
		}
		us, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			return out, fmt.Errorf("line %d: transaction time %q: %w", i+1, f[2], err)
		}
		out = append(out, us/1000)
	}
	return out, nil
}

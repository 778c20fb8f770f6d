package e2e

// TLS wherever it is loaded: a renamed copy of libssl loaded with dlopen by
// a program started after the agent, and Go programs (pgx over crypto/tls,
// stripped or not), each also loaded and used at once, watched by the real
// agent limited to the packaged unit's capabilities, with its default
// config (it drops CAP_SYS_ADMIN and hands uprobe attaching to its attacher
// process).

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/caps"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

func TestTLSLoadedLate(t *testing.T) {
	testkernel.RequireRoot(t)
	requireTools(t, "setpriv", "go")
	pg := testdb.StartPostgres(t, testdb.Options{TLS: true})
	data := t.TempDir()
	c := startCollector(t, data, testproc.FreePort(t))
	a := startAgent(t, c, data, c.NATS, agentOpts{site: "leeds", host: "ws-tls-01", dbPorts: []int{pg.Port},
		sensors: []string{"process", "db"}, under: asPackagedUnit(t)})

	bin := t.TempDir()
	dlopen := testdb.DlopenClient(t, bin)
	renamed := testdb.RenamedLibSSL(t, bin)
	pgx, stripped := testdb.PgxClient(t, bin, false), testdb.PgxClient(t, bin, true)
	for _, tc := range []struct {
		name, probed string
		cmd          func(ready, stmt string) *exec.Cmd
	}{
		{"renamed_libssl_dlopen", renamed, func(ready, stmt string) *exec.Cmd {
			return exec.Command(dlopen, renamed, pg.DSN, ready, stmt)
		}},
		{"go_pgx", pgx, func(ready, stmt string) *exec.Cmd { return exec.Command(pgx, pg.DSN, ready, stmt) }},
		{"go_pgx_stripped", stripped, func(ready, stmt string) *exec.Cmd { return exec.Command(stripped, pg.DSN, ready, stmt) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alias := "vigil_probe_" + tc.name
			cmd := tc.cmd(filepath.Join(t.TempDir(), "ready"), "SELECT 42 AS "+alias)
			runLateClient(t, a, cmd, tc.probed)
			checkStored(t, data, a, alias, cmd.Process.Pid)
		})
	}
	// The insider's variant: load the TLS code and use it at once, giving
	// the agent no time between the mapping and the first statement (fresh
	// files, so nothing is probed from before).
	atOnce := t.TempDir()
	renamedNow := testdb.RenamedLibSSL(t, atOnce)
	pgxNow := filepath.Join(atOnce, "pgxclient-now")
	if out, err := exec.Command("cp", pgx, pgxNow).CombinedOutput(); err != nil {
		t.Fatalf("copying pgxclient: %v: %s", err, out)
	}
	for _, tc := range []struct {
		name string
		cmd  func(stmt string) *exec.Cmd
		gap  string // why the agent does not read it yet (docs/deploy.md)
	}{
		{"renamed_libssl_dlopen_at_once", func(stmt string) *exec.Cmd { return exec.Command(dlopen, renamedNow, pg.DSN, "-", stmt) }, ""},
		{"go_pgx_at_once", func(stmt string) *exec.Cmd { return exec.Command(pgxNow, pg.DSN, "-", stmt) },
			"not covered: judging a new Go binary (pclntab, disassembly) takes longer than pgx's connect and first query, which run unread"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.gap != "" {
				t.Skip(tc.gap)
			}
			alias := "vigil_probe_" + tc.name
			cmd := tc.cmd("SELECT 42 AS " + alias)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("client: %v\n%s", err, out)
			}
			checkStored(t, data, a, alias, cmd.Process.Pid)
		})
	}
	t.Run("privilege_split", func(t *testing.T) { checkPrivilegeSplit(t, a) })
}

// checkStored waits for the db.query naming alias, read over TLS in the
// client process pid, with its one row: the server's side of the same
// query (PostgreSQL's libssl, probed at start) does not count.
func checkStored(t *testing.T, data string, a *agentProc, alias string, pid int) {
	t.Helper()
	cond := fmt.Sprintf(`json_extract(body, '$.db.statement') LIKE '%%%s%%' AND json_extract(body, '$.db.tls') = 1
		AND json_extract(body, '$.db.rows') = 1 AND json_extract(body, '$.process.pid') = %d`, alias, pid)
	testproc.CheckFor(t, 30*time.Second, poll, func() error {
		if n := storedEvents(t, data, a.id, event.KindDBQuery, "", cond); n < 1 {
			return fmt.Errorf("no db.query over TLS with 1 row naming %s from the client (pid %d) stored (%d); agent log:\n%s", alias, pid, n, a.Log())
		}
		return nil
	})
}

// runLateClient starts cmd, a client that signals through its READY file
// once it has loaded its TLS code and then waits for a line on its standard
// input; waits until the agent says it probes file; lets the client go on
// and waits for it.
func runLateClient(t *testing.T, a *agentProc, cmd *exec.Cmd, file string) {
	t.Helper()
	ready := cmd.Args[len(cmd.Args)-2]
	goAhead, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	probing := `msg="probing TLS library" path=` + file + " "
	testproc.CheckFor(t, 30*time.Second, poll, func() error {
		if _, err := os.Stat(ready); err != nil {
			return fmt.Errorf("the client has not loaded its TLS code: %v", err)
		}
		if !strings.Contains(a.Log(), probing) {
			return fmt.Errorf("the agent has not probed %s; its log:\n%s", file, a.Log())
		}
		return nil
	})
	if _, err := io.WriteString(goAhead, "go\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("client: %v\n%s", err, out)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("client still running after 30s:\n%s", out)
	}
}

// asPackagedUnit is setpriv limiting the agent as the packaged systemd unit
// does: its CapabilityBoundingSet, no inheritable capabilities, and
// no_new_privs.
func asPackagedUnit(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../../packaging/systemd/vigil-agent.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var bound []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapabilityBoundingSet="); ok {
			for _, name := range strings.Fields(v) {
				bound = append(bound, "+"+strings.ToLower(strings.TrimPrefix(name, "CAP_")))
			}
		}
	}
	if len(bound) == 0 {
		t.Fatal("the agent's unit has no CapabilityBoundingSet")
	}
	return []string{"setpriv", "--bounding-set=-all," + strings.Join(bound, ","), "--inh-caps=-all", "--no-new-privs", "--"}
}

var attacherStarted = regexp.MustCompile(`msg="uprobe attacher started" pid=(\d+)`)

// checkPrivilegeSplit checks that the agent, which parses the traffic,
// holds no CAP_SYS_ADMIN, and that its attacher holds caps.Attacher alone.
func checkPrivilegeSplit(t *testing.T, a *agentProc) {
	m := attacherStarted.FindStringSubmatch(a.Log())
	if m == nil {
		t.Fatalf("the agent started no uprobe attacher; its log:\n%s", a.Log())
	}
	attacher, _ := strconv.Atoi(m[1])
	var want uint64
	for _, v := range caps.Values(caps.Attacher) {
		want |= 1 << uint(v)
	}
	status := func(who string, pid int) caps.Status {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatalf("reading the %s's status: %v", who, err)
		}
		st, err := caps.ParseStatus(b)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := status("agent", a.Pid()); st.Permitted&want != 0 {
		t.Errorf("the agent still holds %s (all it holds: %s)", caps.Names(st.Permitted&want), caps.Names(st.Permitted))
	}
	if st := status("attacher", attacher); st.Permitted != want || st.Effective != want {
		t.Errorf("the attacher holds %s (effective %s), want %s alone", caps.Names(st.Permitted), caps.Names(st.Effective), caps.Names(want))
	}
}

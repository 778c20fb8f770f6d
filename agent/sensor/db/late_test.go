package db_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/caps"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/agent/sensor/sensortest"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// A TLS library loaded after the sensor started, under a name no search by
// name finds (a copy of libssl as a wheel bundles it, libvigiltest-<hash>.so),
// by a program started after the sensor, is probed when the program maps it,
// and its plaintext read: through the agent itself, and through the
// attacher process the agent hands attaching to before it drops
// CAP_SYS_ADMIN.
func TestLateRenamedLibSSL(t *testing.T) {
	testkernel.RequireRoot(t)
	pg := testdb.StartPostgres(t, testdb.Options{TLS: true})
	dir := t.TempDir()
	client := testdb.DlopenClient(t, dir)
	for _, attacher := range []bool{false, true} {
		t.Run(fmt.Sprintf("attacher=%v", attacher), func(t *testing.T) {
			testLateRenamedLibSSL(t, pg, client, attacher)
		})
	}
}

func testLateRenamedLibSSL(t *testing.T, pg *testdb.Server, client string, attacher bool) {
	dir := t.TempDir()
	copyPath := testdb.RenamedLibSSL(t, dir)
	sn := db.New(db.Config{Ports: []uint16{uint16(pg.Port)}})
	set := startBuild(t, sn, false)
	timeout := time.AfterFunc(60*time.Second, func() { set.Close() })
	t.Cleanup(func() { timeout.Stop(); set.Close() })
	attacherPID := 0
	if attacher {
		pid, err := sn.StartAttacher()
		if err != nil {
			t.Fatal(err)
		}
		checkAttacherCaps(t, pid)
		attacherPID = pid
	}
	if slices.Contains(sn.LibSSL(), copyPath) {
		t.Fatalf("%s probed before any process loaded it", copyPath)
	}

	ready := filepath.Join(dir, "ready")
	stmt := fmt.Sprintf("SELECT 'late loaded tls %v'", attacher)
	cmd := exec.Command(client, copyPath, pg.DSN, ready, stmt)
	goAhead, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// The program has mapped the copy: the sensor must now probe it.
	testproc.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if _, err := os.Stat(ready); err != nil {
			return fmt.Errorf("the client has not loaded its libraries: %v (%s)", err, out.String())
		}
		if !slices.Contains(sn.LibSSL(), copyPath) {
			return fmt.Errorf("%s not probed: probed %v, errors %v", copyPath, sn.LibSSL(), sn.LibSSLErrors())
		}
		return nil
	})
	if _, err := io.WriteString(goAhead, "go\n"); err != nil {
		t.Fatal(err)
	}
	d := sensortest.Next(t, set, "the statement, read from the renamed libssl", func(r any) bool {
		d, ok := r.(*db.Data)
		return ok && d.TLS && d.Sent && bytes.Contains(d.Data, []byte(stmt))
	}).(*db.Data)
	if d.Conn.Remote.Port() != uint16(pg.Port) {
		t.Errorf("statement captured on %+v, want the connection to port %d", d.Conn, pg.Port)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("client: %v\n%s", err, out.String())
	}
	if attacherPID != 0 {
		// Closing the sensor closes the attacher's socket: it must detach
		// everything and exit by itself, not be killed after waiting.
		timeout.Stop()
		if err := set.Close(); err != nil {
			t.Errorf("closing the sensor and its attacher: %v", err)
		}
		testproc.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", attacherPID)); err == nil {
				return fmt.Errorf("attacher %d still running after the sensor closed", attacherPID)
			}
			return nil
		})
	}
}

// checkAttacherCaps checks that the attacher process holds caps.Attacher and
// nothing more.
func checkAttacherCaps(t *testing.T, pid int) {
	t.Helper()
	var allowed uint64
	for _, v := range caps.Values(caps.Attacher) {
		allowed |= 1 << uint(v)
	}
	testproc.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return err
		}
		st, err := caps.ParseStatus(b)
		if err != nil {
			return err
		}
		if err := st.Within(allowed, false); err != nil {
			return fmt.Errorf("attacher %d: %v", pid, err)
		}
		if st.Effective != allowed {
			return fmt.Errorf("attacher %d holds %s, want %s", pid, caps.Names(st.Effective), caps.Names(allowed))
		}
		return nil
	})
}

// lockedBuffer is a bytes.Buffer a running process writes to while the
// test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

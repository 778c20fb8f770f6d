package db_test

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/agent/sensor/sensortest"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// A Go client whose TLS bytes reach the socket from other goroutines than
// the crypto/tls call's, each on a thread of its own (testdata/relayclient:
// a tunnel's shape), has its statements and rows read: the tls.Conn is tied
// to its socket through the net.Conn it wraps, not through the syscall the
// calling goroutine makes, which here it never does.
func TestGoTLSRelay(t *testing.T) {
	testkernel.RequireRoot(t)
	pg := testdb.StartPostgres(t, testdb.Options{TLS: true})
	client := filepath.Join(t.TempDir(), "relayclient")
	if out, err := exec.Command("go", "build", "-o", client, "./testdata/relayclient").CombinedOutput(); err != nil {
		t.Fatalf("building relayclient: %v\n%s", err, out)
	}
	sn := db.New(db.Config{Ports: []uint16{uint16(pg.Port)}})
	set := startBuild(t, sn, false)
	timeout := time.AfterFunc(60*time.Second, func() { set.Close() })
	t.Cleanup(func() { timeout.Stop(); set.Close() })
	// Probed before it runs, so that only the tie is under test.
	sn.AttachLibSSL(client)
	testproc.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if !slices.Contains(sn.LibSSL(), client) {
			return fmt.Errorf("%s not probed: probed %v, errors %v", client, sn.LibSSL(), sn.LibSSLErrors())
		}
		return nil
	})
	marker := fmt.Sprintf("relay row %d", time.Now().UnixNano())
	rows := []string{marker + " one", marker + " two"}
	stmts := []string{"SELECT '" + rows[0] + "' AS v", "SELECT '" + rows[1] + "' AS v"}
	cmd := exec.Command(client, append([]string{pg.DSN}, stmts...)...)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("client: %v\n%s", err, out.String())
	}
	for i, stmt := range stmts {
		q := nextGoTLS(t, set, cmd.Process.Pid, fmt.Sprintf("statement %d, sent through a relay goroutine", i+1), true, stmt)
		if q.Conn.Remote.Port() != uint16(pg.Port) {
			t.Errorf("statement captured on %+v, want the connection to port %d", q.Conn, pg.Port)
		}
		r := nextGoTLS(t, set, cmd.Process.Pid, fmt.Sprintf("row %d, received through a relay goroutine", i+1), false, rows[i])
		if r.Conn != q.Conn {
			t.Errorf("row captured on %+v, statement on %+v", r.Conn, q.Conn)
		}
	}
}

// nextGoTLS waits for pid's plaintext holding want, sent or received.
func nextGoTLS(t *testing.T, set *sensor.Set, pid int, what string, sent bool, want string) *db.Data {
	t.Helper()
	return sensortest.Next(t, set, what, func(r any) bool {
		d, ok := r.(*db.Data)
		return ok && d.TLS && d.Sent == sent && d.PID == uint32(pid) && bytes.Contains(d.Data, []byte(want))
	}).(*db.Data)
}

package db_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/agent/sensor/sensortest"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// A Go client (pgx over crypto/tls) has its statements and rows read from
// its plaintext: started after the sensor (found at exec) or running
// before it (found by the start scan), built normally or stripped of its
// symbol table (found through pclntab), probed by the agent itself or by
// its attacher.
func TestGoTLSCapture(t *testing.T) {
	testkernel.RequireRoot(t)
	pg := testdb.StartPostgres(t, testdb.Options{TLS: true})
	bin := t.TempDir()
	plain, stripped := testdb.PgxClient(t, bin, false), testdb.PgxClient(t, bin, true)
	for _, tc := range []struct {
		name           string
		client         string
		before, helper bool
	}{
		{"started after", plain, false, false},
		{"running before", plain, true, false},
		{"stripped, attacher", stripped, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) { testGoTLSCapture(t, pg, tc.client, tc.before, tc.helper) })
	}
}

func testGoTLSCapture(t *testing.T, pg *testdb.Server, client string, before, helper bool) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	marker := fmt.Sprintf("go tls row %d", time.Now().UnixNano())
	stmt := "SELECT '" + marker + "' AS v"
	cmd := exec.Command(client, pg.DSN, ready, stmt)
	goAhead, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	startClient := func() {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		testproc.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
			if _, err := os.Stat(ready); err != nil {
				return fmt.Errorf("the client has not started: %v (%s)", err, out.String())
			}
			return nil
		})
	}
	if before {
		startClient()
	}
	sn := db.New(db.Config{Ports: []uint16{uint16(pg.Port)}})
	set := startBuild(t, sn, false)
	timeout := time.AfterFunc(60*time.Second, func() { set.Close() })
	t.Cleanup(func() { timeout.Stop(); set.Close() })
	if helper {
		pid, err := sn.StartAttacher()
		if err != nil {
			t.Fatal(err)
		}
		checkAttacherCaps(t, pid)
	}
	if !before {
		startClient()
	}
	testproc.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if !slices.Contains(sn.LibSSL(), client) {
			return fmt.Errorf("%s not probed: probed %v, errors %v", client, sn.LibSSL(), sn.LibSSLErrors())
		}
		return nil
	})
	if _, err := io.WriteString(goAhead, "go\n"); err != nil {
		t.Fatal(err)
	}
	next := func(what string, sent bool, want string) *db.Data {
		return sensortest.Next(t, set, what, func(r any) bool {
			d, ok := r.(*db.Data)
			return ok && d.TLS && d.Sent == sent && d.PID == uint32(cmd.Process.Pid) && bytes.Contains(d.Data, []byte(want))
		}).(*db.Data)
	}
	q := next("the statement, sent through crypto/tls", true, stmt)
	if q.Conn.Remote.Port() != uint16(pg.Port) {
		t.Errorf("statement captured on %+v, want the connection to port %d", q.Conn, pg.Port)
	}
	r := next("the row, received through crypto/tls", false, marker)
	if r.Conn != q.Conn {
		t.Errorf("row captured on %+v, statement on %+v", r.Conn, q.Conn)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("client: %v\n%s", err, out.String())
	}
}

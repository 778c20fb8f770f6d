package db_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/agent/sensor/sensortest"
	"github.com/vigilhq/vigil/internal/testkernel"
)

// pgStartup is a PostgreSQL StartupMessage (protocol 3.0) for user u.
func pgStartup(u string) []byte {
	body := append([]byte{0, 3, 0, 0}, "user\x00"+u+"\x00\x00"...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(4+len(body))), body...) // the length counts itself
}

// startBuild starts sn alone as the given build of bpf/db.bpf.c: the
// default one, for kernels with the kfunc bpf_rdonly_cast (6.2+), or the
// compat one for older kernels.
func startBuild(t *testing.T, sn *db.Sensor, compat bool) *sensor.Set {
	t.Helper()
	// AgentPID 0: this test's own sockets are the ones watched.
	return sensortest.Start(t, sn, db.Builds(sn), compat, db.HaveRdonlyCast,
		"kernel has no kfunc bpf_rdonly_cast (6.2+): only the compat build runs here", sensor.Options{})
}

// listenAndStart listens on a loopback port and starts a db sensor, in the
// build asked for, on that port, or on ports alone when given (the
// listener's connections are then recognised by their first bytes). All of
// it closes when the test ends, and the set closes itself after limit, so
// a wait for a record that never comes fails instead of hanging.
func listenAndStart(t *testing.T, compat bool, limit time.Duration, ports ...uint16) (net.Listener, *db.Sensor, *sensor.Set) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	if len(ports) == 0 {
		ports = []uint16{uint16(ln.Addr().(*net.TCPAddr).Port)}
	}
	sn := db.New(db.Config{Ports: ports})
	set := startBuild(t, sn, compat)
	timeout := time.AfterFunc(limit, func() { set.Close() })
	t.Cleanup(func() {
		timeout.Stop()
		set.Close()
	})
	return ln, sn, set
}

// dialAccept connects to ln and returns both ends.
func dialAccept(t *testing.T, ln net.Listener) (client, server net.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

// A thread that has only written plain files, and a connection on a port
// that is not a database port, still get the connection's first bytes
// captured (they decide that it is a database connection), through write
// and writev alike; a connection whose first bytes are not a database
// protocol's is not captured.
func TestFirstBytesAfterPlainWrites(t *testing.T) {
	testkernel.RequireRoot(t)
	sensortest.EachBuild(t, testFirstBytesAfterPlainWrites)
}

func testFirstBytesAfterPlainWrites(t *testing.T, compat bool) {
	// Port 1 only: the listener's port is recognised by first bytes alone.
	ln, _, set := listenAndStart(t, compat, 20*time.Second, 1)

	// One OS thread does everything, so the plain writes and the first
	// socket write come from the same thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f, err := os.Create(filepath.Join(t.TempDir(), "plain"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2000 {
		if _, err := f.Write([]byte("plain file bytes\n")); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()

	drain := func(s net.Conn, n int) {
		t.Helper()
		if _, err := io.ReadFull(s, make([]byte, n)); err != nil {
			t.Fatal(err)
		}
	}
	next := func(what string, ok func(*db.Data) bool, bad func(*db.Data) bool) *db.Data {
		t.Helper()
		return sensortest.Next(t, set, what, func(r any) bool {
			d, isData := r.(*db.Data)
			if !isData {
				return false
			}
			if bad != nil && bad(d) {
				t.Fatalf("while waiting for %s: unexpected record %+v", what, d)
			}
			return ok(d)
		}).(*db.Data)
	}
	sent := func(msg []byte) func(*db.Data) bool {
		return func(d *db.Data) bool { return d.Sent && bytes.Equal(d.Data, msg) }
	}

	other, otherSrv := dialAccept(t, ln)
	defer other.Close()
	defer otherSrv.Close()
	for _, msg := range []string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "more bytes of it"} {
		if _, err := other.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		drain(otherSrv, len(msg))
	}
	otherSock := func(d *db.Data) bool {
		return d.Conn.Local.Port() == uint16(other.LocalAddr().(*net.TCPAddr).Port)
	}

	c, s := dialAccept(t, ln)
	defer c.Close()
	defer s.Close()
	startup := pgStartup("alice")
	if _, err := c.Write(startup); err != nil {
		t.Fatal(err)
	}
	drain(s, len(startup))
	first := next("the startup message, written", sent(startup), otherSock)
	if first.Conn.Remote.Port() != uint16(ln.Addr().(*net.TCPAddr).Port) {
		t.Errorf("startup captured on %+v, want the connection to the listener", first.Conn)
	}
	// writev: net.Buffers writes its buffers in one call.
	a, b := []byte("Q\x00\x00\x00\x0dSELECT 1"), []byte("\x00")
	bufs := net.Buffers{a, b}
	if _, err := bufs.WriteTo(c); err != nil {
		t.Fatal(err)
	}
	drain(s, len(a)+len(b))
	next("the query, written as two buffers", sent(append(append([]byte(nil), a...), b...)), otherSock)
}

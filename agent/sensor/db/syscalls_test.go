package db_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/agent/sensor/sensortest"
	"github.com/vigilhq/vigil/internal/testkernel"
)

// Every socket call the sensor watches is captured, whole and in its
// direction: the sensor reads a call's arguments back at its exit, so a
// wrong register or a wrong shape (buffer, iovec array, msghdr) shows here
// as missing or wrong bytes. Reads that find nothing (EAGAIN on a
// non-blocking socket) capture nothing, and a read that returns fewer bytes
// than its buffer holds captures just those.
func TestEverySocketCall(t *testing.T) {
	testkernel.RequireRoot(t)
	sensortest.EachBuild(t, testEverySocketCall)
}

func testEverySocketCall(t *testing.T, compat bool) {
	ln, _, set := listenAndStart(t, compat, 20*time.Second)
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	c, s := dialAccept(t, ln)
	defer c.Close()
	defer s.Close()
	// Raw descriptors (dups of the conns'), so each call below is exactly
	// the syscall named; the server's is non-blocking.
	cfd, sfd := rawFD(t, c), rawFD(t, s)
	if err := unix.SetNonblock(sfd, true); err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	ours := func(d *db.Data) bool {
		return d.Conn.Local.Port() == port || d.Conn.Remote.Port() == port
	}
	expect := func(what string, sent bool, want []byte) {
		t.Helper()
		d := sensortest.Next(t, set, what, func(r any) bool {
			d, ok := r.(*db.Data)
			return ok && ours(d)
		}).(*db.Data)
		if d.Sent != sent || !bytes.Equal(d.Data, want) || d.Len != len(want) {
			t.Fatalf("%s: got sent=%v len=%d %q, want sent=%v len=%d %q",
				what, d.Sent, d.Len, d.Data, sent, len(want), want)
		}
	}
	// recv reads exactly n bytes with one call of read, waiting while the
	// socket has none (EAGAIN). A shorter read fails the test: on loopback
	// a message this small is queued whole before its send returns.
	recv := func(what string, n int, read func(buf []byte) (int, error)) []byte {
		t.Helper()
		buf := make([]byte, n+64) // room to spare: a read returns what there is
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err := read(buf)
			if errors.Is(err, unix.EAGAIN) && time.Now().Before(deadline) {
				pollIn(t, sfd)
				continue
			}
			if err != nil || got != n {
				t.Fatalf("%s: read %d bytes (%v), want %d", what, got, err, n)
			}
			return buf[:n]
		}
	}

	// A read before anything was sent: EAGAIN, nothing to capture.
	if _, _, err := unix.Recvfrom(sfd, make([]byte, 16), 0); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("recvfrom on an empty socket: %v, want EAGAIN", err)
	}

	calls := []struct {
		name string
		send func(p []byte) (int, error)
		read func(buf []byte) (int, error)
	}{
		{"write/read",
			func(p []byte) (int, error) { return unix.Write(cfd, p) },
			func(b []byte) (int, error) { return unix.Read(sfd, b) }},
		{"sendto/recvfrom",
			func(p []byte) (int, error) { return len(p), unix.Sendto(cfd, p, 0, nil) },
			func(b []byte) (int, error) { n, _, err := unix.Recvfrom(sfd, b, 0); return n, err }},
		{"writev/readv",
			func(p []byte) (int, error) { return unix.Writev(cfd, [][]byte{p[:5], p[5:]}) },
			func(b []byte) (int, error) { return unix.Readv(sfd, [][]byte{b[:7], b[7:]}) }},
		{"sendmsg/recvmsg",
			func(p []byte) (int, error) {
				return unix.SendmsgBuffers(cfd, [][]byte{p[:3], p[3:9], p[9:]}, nil, nil, 0)
			},
			func(b []byte) (int, error) {
				n, _, _, _, err := unix.RecvmsgBuffers(sfd, [][]byte{b[:11], b[11:]}, nil, 0)
				return n, err
			}},
	}
	for i, call := range calls {
		msg := []byte(fmt.Sprintf("Q\x00\x00\x00\x20SELECT %d FROM %s\x00", i, call.name))
		if n, err := call.send(msg); err != nil || n != len(msg) {
			t.Fatalf("%s: sent %d of %d bytes: %v", call.name, n, len(msg), err)
		}
		expect(call.name+" (sent)", true, msg)
		if got := recv(call.name, len(msg), call.read); !bytes.Equal(got, msg) {
			t.Fatalf("%s: received %q, want %q", call.name, got, msg)
		}
		expect(call.name+" (received)", false, msg)
	}
}

// rawFD returns a descriptor of conn's socket the test owns.
func rawFD(t *testing.T, conn net.Conn) int {
	t.Helper()
	f, err := conn.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return int(f.Fd())
}

// pollIn waits until fd is readable.
func pollIn(t *testing.T, fd int) {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if _, err := unix.Poll(fds, 1000); err != nil && !errors.Is(err, unix.EINTR) {
		t.Fatal(err)
	}
}

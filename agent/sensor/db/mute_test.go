package db_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/agent/sensor/sensortest"
	"github.com/vigilhq/vigil/internal/testkernel"
)

// A muted connection's bytes stop reaching user space, its close is still
// reported, and other connections are untouched.
func TestMute(t *testing.T) {
	testkernel.RequireRoot(t)
	sensortest.EachBuild(t, testMute)
}

func testMute(t *testing.T, compat bool) {
	ln, sn, set := listenAndStart(t, compat, 20*time.Second)
	send := func(c, s net.Conn, msg string) {
		t.Helper()
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, len(msg))
		if _, err := io.ReadFull(s, buf); err != nil {
			t.Fatal(err)
		}
	}
	// next reads records until one satisfies ok, failing on any that bad flags.
	next := func(what string, ok func(any) bool, bad func(any) bool) any {
		t.Helper()
		return sensortest.Next(t, set, what, func(r any) bool {
			if bad != nil && bad(r) {
				t.Fatalf("while waiting for %s: unexpected record %+v", what, r)
			}
			return ok(r)
		})
	}
	sentBy := func(msg string) func(any) bool {
		return func(r any) bool {
			d, ok := r.(*db.Data)
			return ok && d.Sent && bytes.Equal(d.Data, []byte(msg))
		}
	}

	c1, s1 := dialAccept(t, ln)
	send(c1, s1, "first bytes")
	conn := next("the client's first send", sentBy("first bytes"), nil).(*db.Data).Conn
	sock := conn.Sock
	// A record of a connection that closed names its socket's address,
	// which a new socket may have taken since: muting by that record (other
	// ports at the same address) leaves the new socket captured.
	stale := conn
	stale.Remote = netip.AddrPortFrom(conn.Remote.Addr(), conn.Remote.Port()+1)
	if err := sn.Mute(stale); err != nil {
		t.Fatal(err)
	}
	send(c1, s1, "still captured")
	next("a send after muting another connection at the same address", sentBy("still captured"), nil)
	if err := sn.Mute(conn); err != nil {
		t.Fatal(err)
	}
	send(c1, s1, "muted bytes")
	// A second connection's send, made after the muted one, is the barrier:
	// the ring keeps the kernel's order.
	c2, s2 := dialAccept(t, ln)
	defer c2.Close()
	defer s2.Close()
	onMuted := func(r any) bool {
		d, ok := r.(*db.Data)
		return ok && d.Conn.Sock == sock
	}
	send(c2, s2, "barrier")
	next("the second connection's send", sentBy("barrier"), onMuted)
	c1.Close()
	s1.Close()
	next("the muted connection's close", func(r any) bool {
		cl, ok := r.(*db.Close)
		return ok && cl.Conn.Sock == sock
	}, onMuted)
	if err := sn.Mute(conn); err != nil {
		t.Errorf("muting a closed connection: %v", err)
	}
}

// A muted socket closes, and a new one often takes its address at once (TCP
// sockets are reused straight from their slab): the new socket, never
// muted, is captured, also from the thread that moved the muted socket's
// bytes last (a guard for any memory of muted sockets kept per thread or per
// address).
func TestMuteForgetsClosedSocket(t *testing.T) {
	testkernel.RequireRoot(t)
	sensortest.EachBuild(t, testMuteForgetsClosedSocket)
}

func testMuteForgetsClosedSocket(t *testing.T, compat bool) {
	ln, sn, set := listenAndStart(t, compat, 30*time.Second)

	// The writes below run on one thread, the one that remembers.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	sent := func(c net.Conn, msg string) *db.Data {
		t.Helper()
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		return sensortest.Next(t, set, msg, func(r any) bool {
			d, ok := r.(*db.Data)
			return ok && d.Sent && bytes.Equal(d.Data, []byte(msg))
		}).(*db.Data)
	}
	reused := 0
	var muted uint64
	for i := range 20 {
		c, s := dialAccept(t, ln)
		// Either end may have taken the last muted socket's address.
		server := sent(s, fmt.Sprintf("server %d", i))
		client := sent(c, fmt.Sprintf("client %d", i))
		if server.Conn.Sock == muted || client.Conn.Sock == muted {
			reused++
		}
		if err := sn.Mute(client.Conn); err != nil {
			t.Fatal(err)
		}
		muted = client.Conn.Sock
		for range 2 {
			if _, err := c.Write([]byte("muted")); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
		s.Close()
		// Lets the kernel free the sockets before the next dial.
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d of 20 connections took the last muted socket's address", reused)
}

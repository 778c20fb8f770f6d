package db_test

import (
	"bytes"
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/agent/sensor/sensortest"
	"github.com/vigilhq/vigil/internal/testkernel"
)

// unixPair connects to a new Unix listener at path in a fresh directory and
// returns both ends and the path.
func unixPair(t *testing.T) (client, server *net.UnixConn, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), ".s.PGSQL.5432")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	return c, s, path
}

// startUnix starts the db sensor, sweeping every 100 ms, in the build
// asked for; the set closes itself after limit.
func startUnix(t *testing.T, compat bool, limit time.Duration) (*db.Sensor, *sensor.Set) {
	t.Helper()
	sn := db.New(db.Config{SweepEvery: 100 * time.Millisecond})
	set := startBuild(t, sn, compat)
	timeout := time.AfterFunc(limit, func() { set.Close() })
	t.Cleanup(func() {
		timeout.Stop()
		set.Close()
	})
	return sn, set
}

// exchange writes msg on from and reads it on to.
func exchange(t *testing.T, from, to net.Conn, msg []byte) {
	t.Helper()
	if _, err := from.Write(msg); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(to, make([]byte, len(msg))); err != nil {
		t.Fatal(err)
	}
}

// A Unix-domain stream connection that starts with a PostgreSQL startup is
// captured at both ends: each is named once (its path, its peer's path and
// inode) before its bytes, its records name its inode and its peer socket,
// and its close, which no tracepoint shows, is reported by the sweep.
func TestUnixSocket(t *testing.T) {
	testkernel.RequireRoot(t)
	sensortest.EachBuild(t, testUnixSocket)
}

func testUnixSocket(t *testing.T, compat bool) {
	_, set := startUnix(t, compat, 20*time.Second)
	c, s, path := unixPair(t)
	startup := pgStartup("alice")
	exchange(t, c, s, startup)

	names := map[bool]*db.UnixEnds{} // by: the client's end
	data := map[bool]*db.Data{}
	sensortest.Next(t, set, "both ends' names and startup", func(r any) bool {
		switch r := r.(type) {
		case *db.UnixEnds:
			names[r.Path == ""] = r
		case *db.Data:
			if r.Conn.Unix() && bytes.Equal(r.Data, startup) {
				if names[r.Sent] == nil {
					t.Fatalf("data of the %v end before its names", r.Sent)
				}
				data[r.Sent] = r
			}
		}
		return data[true] != nil && data[false] != nil
	})
	cl, sv := data[true].Conn, data[false].Conn
	if cl.Peer != sv.Sock || sv.Peer != cl.Sock || cl.Ino == 0 || sv.Ino == 0 || cl.Ino == sv.Ino {
		t.Errorf("client end %+v and server end %+v do not name each other", cl, sv)
	}
	if n := names[true]; n.Conn != cl || n.PeerPath != path || n.PeerIno != sv.Ino {
		t.Errorf("client end named %+v, want its peer at %s with inode %d", n, path, sv.Ino)
	}
	if n := names[false]; n.Conn != sv || n.Path != path || n.PeerIno != cl.Ino || n.PeerPath != "" {
		t.Errorf("server end named %+v, want %s with its peer's inode %d", n, path, cl.Ino)
	}
	if cl.Local.IsValid() || cl.Remote.IsValid() {
		t.Errorf("a Unix end has addresses: %+v", cl)
	}

	// Both closed: the sweep reports each end's close, by socket and inode.
	c.Close()
	s.Close()
	closed := map[uint64]bool{}
	sensortest.Next(t, set, "both ends' closes", func(r any) bool {
		if r, ok := r.(*db.Close); ok && (r.Conn == db.Conn{Sock: cl.Sock, Ino: cl.Ino} || r.Conn == db.Conn{Sock: sv.Sock, Ino: sv.Ino}) {
			closed[r.Conn.Sock] = true
		}
		return len(closed) == 2
	})
}

// Other sockets coming and going by the ten thousand (an LRU table of
// sockets would evict the idle connection's entry, and the connection,
// seen again in mid-stream, would no longer be recognised) leave a
// database connection captured.
func TestDatabaseConnectionOutlivesSocketChurn(t *testing.T) {
	testkernel.RequireRoot(t)
	sensortest.EachBuild(t, testChurn)
}

func testChurn(t *testing.T, compat bool) {
	_, set := startUnix(t, compat, 60*time.Second)
	c, s, _ := unixPair(t)
	startup := pgStartup("alice")
	exchange(t, c, s, startup)
	sensortest.Next(t, set, "the startup", func(r any) bool {
		d, ok := r.(*db.Data)
		return ok && d.Sent && bytes.Equal(d.Data, startup)
	})
	// 20,000 other Unix connections, each end sending a byte, while the
	// database connection idles.
	one := []byte{'x'}
	buf := make([]byte, 1)
	for range 20000 {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range fds {
			if _, err := syscall.Write(fd, one); err != nil {
				t.Fatal(err)
			}
		}
		for _, fd := range fds {
			if _, err := syscall.Read(fd, buf); err != nil {
				t.Fatal(err)
			}
			syscall.Close(fd)
		}
	}
	query := []byte("Q\x00\x00\x00\x0dSELECT 1\x00")
	exchange(t, c, s, query)
	sensortest.Next(t, set, "the query after the churn", func(r any) bool {
		d, ok := r.(*db.Data)
		return ok && d.Sent && bytes.Equal(d.Data, query)
	})
}

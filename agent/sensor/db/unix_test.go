package db_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/agent/sensor/sensortest"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
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

// startUnix starts the db sensor in the build asked for; the set closes
// itself after limit.
func startUnix(t *testing.T, compat bool, limit time.Duration) (*db.Sensor, *sensor.Set) {
	t.Helper()
	sn := db.New(db.Config{})
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
// and its close, which no program sees, is found by the sweep.
func TestUnixSocket(t *testing.T) {
	testkernel.RequireRoot(t)
	sensortest.EachBuild(t, testUnixSocket)
}

func testUnixSocket(t *testing.T, compat bool) {
	sn, set := startUnix(t, compat, 20*time.Second)
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

	// Both closed: the sweep reports each end's close, by socket and inode,
	// once, and the kernel forgets them.
	if closes, err := sn.Sweep(); err != nil || len(closes) != 0 {
		t.Fatalf("sweep of open connections: %v, %+v", err, closes)
	}
	c.Close()
	s.Close()
	closed := map[db.Conn]int{}
	testproc.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		closes, err := sn.Sweep()
		if err != nil {
			return err
		}
		for _, cl := range closes {
			closed[cl.Conn]++
		}
		if len(closed) < 2 {
			return fmt.Errorf("closes so far %v", closed)
		}
		return nil
	})
	if len(closed) != 2 || closed[db.Conn{Sock: cl.Sock, Ino: cl.Ino}] != 1 || closed[db.Conn{Sock: sv.Sock, Ino: sv.Ino}] != 1 {
		t.Errorf("closes %v, want each end's once", closed)
	}
}

// Other sockets coming and going by the hundred thousand (an LRU table of
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
	// 200,000 other Unix connections, twelve times the socket table, each
	// sending a byte, while the database connection idles.
	one := []byte{'x'}
	for range 200000 {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := syscall.Write(fds[0], one); err != nil {
			t.Fatal(err)
		}
		syscall.Close(fds[0])
		syscall.Close(fds[1])
	}
	query := []byte("Q\x00\x00\x00\x0dSELECT 1\x00")
	exchange(t, c, s, query)
	sensortest.Next(t, set, "the query after the churn", func(r any) bool {
		d, ok := r.(*db.Data)
		return ok && d.Sent && bytes.Equal(d.Data, query)
	})
}

// A Unix connection open before the sensor started (its startup missed) to
// a configured socket path, a port-numbered PostgreSQL name matched by its
// pattern, is captured from its next bytes.
func TestUnixSocketByPath(t *testing.T) {
	testkernel.RequireRoot(t)
	sensortest.EachBuild(t, testUnixSocketByPath)
}

func testUnixSocketByPath(t *testing.T, compat bool) {
	c, s, path := unixPair(t)
	exchange(t, c, s, pgStartup("alice"))
	sn := db.New(db.Config{SocketPaths: []string{filepath.Join(filepath.Dir(path), ".s.PGSQL.*")}})
	set := startBuild(t, sn, compat)
	timeout := time.AfterFunc(20*time.Second, func() { set.Close() })
	t.Cleanup(func() {
		timeout.Stop()
		set.Close()
	})
	query := []byte("Q\x00\x00\x00\x0dSELECT 1\x00")
	exchange(t, c, s, query)
	var named *db.UnixEnds
	d := sensortest.Next(t, set, "the query of a connection open before the sensor", func(r any) bool {
		if n, ok := r.(*db.UnixEnds); ok && n.PeerPath == path {
			named = n
		}
		d, ok := r.(*db.Data)
		return ok && d.Sent && bytes.Equal(d.Data, query)
	}).(*db.Data)
	if named == nil || named.Conn != d.Conn {
		t.Errorf("query on %+v, named %+v before it; want the client end named, peer at %s", d.Conn, named, path)
	}
}

// unixClientEnv makes the test binary a database client of the Unix socket
// it names (see runUnixClient), so that a test can run one in another
// network namespace, as a container's client is.
const unixClientEnv = "VIGIL_TEST_UNIX_CLIENT"

// runUnixClient connects to the socket at path, sends a PostgreSQL startup
// and holds the connection until its stdin closes.
func runUnixClient(path string) int {
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := c.Write(pgStartup("alice")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	c.Close()
	return 0
}

// A client in another network namespace (a container's psql to the host's
// database socket) has its end listed in that namespace's socket table,
// not the agent's: the sweep does not take it for closed while it is open,
// and finds its close when it ends.
func TestUnixSocketOfAnotherNetworkNamespace(t *testing.T) {
	testkernel.RequireRoot(t)
	sn, set := startUnix(t, false, 30*time.Second)
	path := filepath.Join(t.TempDir(), ".s.PGSQL.5432")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	client := exec.Command("unshare", "--net", self)
	client.Env = append(os.Environ(), unixClientEnv+"="+path)
	client.Stderr = os.Stderr
	stdin, err := client.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(); err != nil {
		t.Fatalf("unshare --net: %v", err)
	}
	t.Cleanup(func() { stdin.Close(); _ = client.Wait() })
	s, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	startup := pgStartup("alice")
	if _, err := io.ReadFull(s, make([]byte, len(startup))); err != nil {
		t.Fatal(err)
	}
	d := sensortest.Next(t, set, "the client's startup", func(r any) bool {
		d, ok := r.(*db.Data)
		return ok && d.Sent && d.Conn.Unix() && bytes.Equal(d.Data, startup)
	}).(*db.Data)
	end := db.Conn{Sock: d.Conn.Sock, Ino: d.Conn.Ino}

	// A close is reported at the second sweep that finds the end gone.
	for range 3 {
		closes, err := sn.Sweep()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range closes {
			if c.Conn == end {
				t.Fatalf("the open connection of a client in another network namespace was reported closed")
			}
		}
	}
	stdin.Close()
	if err := client.Wait(); err != nil {
		t.Fatalf("client: %v", err)
	}
	testproc.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		closes, err := sn.Sweep()
		if err != nil {
			return err
		}
		for _, c := range closes {
			if c.Conn == end {
				return nil
			}
		}
		return fmt.Errorf("no close of %+v yet", end)
	})
}

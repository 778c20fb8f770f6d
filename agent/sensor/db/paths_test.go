package db

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A configured socket path is the kernel's lookup key: zero-filled, a
// trailing * (a port number) cut; a * elsewhere or a path too long for a
// sun_path is refused, naming it.
func TestSocketPathKey(t *testing.T) {
	k, err := socketPathKey("/run/postgresql/.s.PGSQL.*")
	if err != nil || string(k[:len("/run/postgresql/.s.PGSQL.")]) != "/run/postgresql/.s.PGSQL." || k[len("/run/postgresql/.s.PGSQL.")] != 0 {
		t.Errorf("key %q, %v", k, err)
	}
	for _, bad := range []string{"", "*", "/srv/*/x.sock", "/" + strings.Repeat("x", 107)} {
		if _, err := socketPathKey(bad); err == nil || !strings.Contains(err.Error(), "socket path") {
			t.Errorf("%q: %v, want an error naming the socket path", bad, err)
		}
	}
}

// The host's Unix socket inodes come from /proc/net/unix's seventh column;
// a malformed inode is an error naming the file.
func TestUnixInodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "unix")
	if err := os.WriteFile(good, []byte("Num       RefCount Protocol Flags    Type St Inode Path\n"+
		"000000002b12b12a: 00000002 00000000 00010000 0001 01 2391685 /run/mysqld/mysqld.sock\n"+
		"00000000cead80cf: 00000003 00000000 00000000 0001 03   248\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := unixInodes(good)
	if err != nil || len(got) != 2 || !got[2391685] || !got[248] {
		t.Errorf("inodes %v, %v; want 2391685 and 248", got, err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("header\nx: 1 0 0 1 1 notanumber\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := unixInodes(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("malformed listing: %v, want an error naming %s", err, bad)
	}
}

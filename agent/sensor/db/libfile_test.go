package db

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/internal/testdb"
)

func TestParseMaps(t *testing.T) {
	maps := `55d4a0a00000-55d4a0a28000 r--p 00000000 fe:01 1311 /usr/bin/psql
55d4a0a28000-55d4a0a9c000 r-xp 00028000 fe:01 1311 /usr/bin/psql
7f0000001000-7f0000002000 r-xp 00001000 00:2a 77 /tmp/dir with space/libvigiltest-1.so
7f0000003000-7f0000004000 r-xp 00000000 00:01 99 /memfd:sealed (deleted)
7f0000005000-7f0000006000 rw-p 00000000 00:00 0 
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]
00400000-00401000 r-xp 00000000 fe:01 5 /low
garbage
`
	got, err := parseMaps(strings.NewReader(maps))
	if err != nil {
		t.Fatal(err)
	}
	want := []mapping{
		{id: fileID{Dev: 0xfe<<20 | 1, Ino: 1311}, path: "/usr/bin/psql", span: "55d4a0a00000-55d4a0a28000"},
		{id: fileID{Dev: 0xfe<<20 | 1, Ino: 1311}, exec: true, path: "/usr/bin/psql", span: "55d4a0a28000-55d4a0a9c000"},
		{id: fileID{Dev: 0x2a, Ino: 77}, exec: true, path: "/tmp/dir with space/libvigiltest-1.so", span: "7f0000001000-7f0000002000"},
		{id: fileID{Dev: 1, Ino: 99}, exec: true, path: "/memfd:sealed (deleted)", span: "7f0000003000-7f0000004000"},
		{id: fileID{Dev: 0xfe<<20 | 1, Ino: 5}, exec: true, path: "/low", span: "400000-401000"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d mappings %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mapping %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// A file is judged by its symbols: libssl under any name is OpenSSL, a
// library without SSL_read/SSL_write and a file that is not ELF are not.
func TestTLSKindBySymbols(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "script.so")
	if err := os.WriteFile(text, []byte("#!/bin/sh\necho SSL_read SSL_write\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, want string
	}{
		{testdb.RenamedLibSSL(t, dir), kindOpenSSL},
		{"/usr/lib/x86_64-linux-gnu/libcrypto.so.3", kindNone},
		{text, kindNone},
	} {
		f, err := os.Open(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tlsKind(f)
		f.Close()
		if err != nil || got != tc.want {
			t.Errorf("%s: kind %q (%v), want %q", tc.path, got, err, tc.want)
		}
	}
}

// openFile refuses a path that names another file than the one mapped.
func TestOpenFileChecksInode(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	id, err := statID(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// b swapped in under a's name after a was seen mapped.
	if err := os.Rename(b, a); err != nil {
		t.Fatal(err)
	}
	if f, err := openFile(a, id); err == nil {
		f.Close()
		t.Fatal("opened the file swapped in under the mapped file's name")
	}
}

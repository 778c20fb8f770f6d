package testdb

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vigilhq/vigil/internal/testenv"
)

//go:embed testdata/dlopen_client.c
var dlopenClientC []byte

// DlopenClient compiles testdata/dlopen_client.c into dir and returns the
// program: a libpq client that loads its TLS library late with dlopen,
// from any file name (see the source for its arguments).
func DlopenClient(t testing.TB, dir string) string {
	t.Helper()
	var cc string
	for _, name := range []string{"cc", "gcc", "clang"} { // clang: CI installs it for eBPF
		if p, err := exec.LookPath(name); err == nil {
			cc = p
			break
		}
	}
	if cc == "" {
		testenv.Skip(t, "testdb: needs a C compiler (cc, gcc or clang) to build the dlopen client")
	}
	if _, err := os.Stat(SystemLibSSL); err != nil {
		testenv.Skipf(t, "testdb: needs %s (libssl3)", SystemLibSSL)
	}
	src := filepath.Join(dir, "dlopen_client.c")
	if err := os.WriteFile(src, dlopenClientC, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "dlopen_client")
	if out, err := exec.Command(cc, "-O1", "-o", bin, src, "-ldl").CombinedOutput(); err != nil {
		t.Fatalf("testdb: building the dlopen client: %v\n%s", err, out)
	}
	return bin
}

// SystemLibSSL is the distribution's libssl, libpq's TLS library.
const SystemLibSSL = "/usr/lib/x86_64-linux-gnu/libssl.so.3"

// RenamedLibSSL copies the system libssl into dir as libvigiltest-<hash>.so,
// the way a wheel bundles it: a file no name-based search finds.
func RenamedLibSSL(t testing.TB, dir string) string {
	t.Helper()
	in, err := os.Open(SystemLibSSL)
	if err != nil {
		testenv.Skipf(t, "testdb: needs %s (libssl3): %v", SystemLibSSL, err)
	}
	defer in.Close()
	h := sha256.New()
	if _, err := io.Copy(h, in); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "libvigiltest-"+hex.EncodeToString(h.Sum(nil))[:8]+".so")
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// PgxClient builds internal/testdb/pgxclient into dir (stripped of its
// symbol table and DWARF with strip) and returns the program.
func PgxClient(t testing.TB, dir string, strip bool) string {
	t.Helper()
	name := "pgxclient"
	args := []string{"build", "-o", filepath.Join(dir, name)}
	if strip {
		name = "pgxclient-stripped"
		args = []string{"build", "-ldflags=-s -w", "-o", filepath.Join(dir, name)}
	}
	args = append(args, "github.com/vigilhq/vigil/internal/testdb/pgxclient")
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("testdb: building %s: %v\n%s", name, err, out)
	}
	return filepath.Join(dir, name)
}

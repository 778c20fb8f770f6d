package db

import (
	"debug/dwarf"
	"debug/elf"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigilhq/vigil/internal/testdb"
)

// The Go TLS functions and their RETs are found the same in a program with
// its symbol table, in the same program stripped (-ldflags=-s -w), through
// pclntab's section, and stripped of its section headers too, through
// pclntab's header in its segments.
func TestFindGoTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two Go programs")
	}
	dir := t.TempDir()
	plain, stripped := testdb.PgxClient(t, dir, false), testdb.PgxClient(t, dir, true)
	find := func(path string) (string, []goFunc, error) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		return inspect(f)
	}
	checkGoConnLayout(t, plain)
	kind, want, err := find(plain)
	if err != nil || kind != kindGoTLS || len(want) != len(goTLSFuncs) {
		t.Fatalf("%s: kind %q, %d functions, %v", plain, kind, len(want), err)
	}
	for _, fn := range want {
		if len(fn.rets) == 0 || fn.rets[0] <= fn.entry {
			t.Errorf("%s: entry %#x, RETs %#x", fn.name, fn.entry, fn.rets)
		}
	}
	ef, err := elf.Open(stripped)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ef.Symbols(); err == nil {
		t.Fatalf("%s still has a symbol table", stripped)
	}
	ef.Close()
	kind, got, err := find(stripped)
	if err != nil || kind != kindGoTLS {
		t.Fatalf("%s: kind %q, %v", stripped, kind, err)
	}
	for i := range want {
		if got[i].entry != want[i].entry || !slices.Equal(got[i].rets, want[i].rets) {
			t.Errorf("stripped %s: entry %#x RETs %#x; with symbols: entry %#x RETs %#x",
				want[i].name, got[i].entry, got[i].rets, want[i].entry, want[i].rets)
		}
	}

	// Section headers gone (as sstrip leaves a program).
	b, err := os.ReadFile(stripped)
	if err != nil {
		t.Fatal(err)
	}
	noHeaders := filepath.Join(dir, "no-section-headers")
	for i := 0x28; i < 0x30; i++ { // e_shoff
		b[i] = 0
	}
	b[0x3c], b[0x3d] = 0, 0 // e_shnum
	b[0x3e], b[0x3f] = 0, 0 // e_shstrndx
	if err := os.WriteFile(noHeaders, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if ef, err := elf.Open(noHeaders); err != nil || len(ef.Sections) != 0 {
		t.Fatalf("%s: %v, sections left", noHeaders, err)
	}
	kind, got, err = find(noHeaders)
	if err != nil || kind != kindGoTLS {
		t.Fatalf("%s: kind %q, %v", noHeaders, kind, err)
	}
	for i := range want {
		if got[i].entry != want[i].entry || !slices.Equal(got[i].rets, want[i].rets) {
			t.Errorf("without section headers %s: entry %#x RETs %#x; with symbols: entry %#x RETs %#x",
				want[i].name, got[i].entry, got[i].rets, want[i].entry, want[i].rets)
		}
	}
}

// checkGoConnLayout checks, against the DWARF of a program built with this
// Go, the layout bpf/db.bpf.c walks from a tls.Conn to its descriptor
// (GO_IFACE_DATA, GO_NETFD_SYSFD): the net.Conn first in tls.Conn, the
// netFD first in net.conn (TCPConn's and UnixConn's), the poll.FD first in
// netFD, and Sysfd 16 bytes into poll.FD.
func checkGoConnLayout(t *testing.T, path string) {
	t.Helper()
	ef, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	dw, err := ef.DWARF()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	want := map[[2]string]int64{
		{"crypto/tls.Conn", "conn"}:   0,
		{"net.conn", "fd"}:            0,
		{"net.netFD", "pfd"}:          0,
		{"internal/poll.FD", "Sysfd"}: 16,
	}
	found := 0
	r := dw.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			break
		}
		if e.Tag != dwarf.TagStructType {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		typ, err := dw.Type(e.Offset)
		if err != nil {
			continue
		}
		st, ok := typ.(*dwarf.StructType)
		if !ok {
			continue
		}
		for _, f := range st.Field {
			off, ok := want[[2]string{name, f.Name}]
			if !ok {
				continue
			}
			found++
			if f.ByteOffset != off {
				t.Errorf("%s.%s is at %d, bpf/db.bpf.c reads it at %d", name, f.Name, f.ByteOffset, off)
			}
		}
		if e.Children {
			r.SkipChildren()
		}
	}
	if found != len(want) {
		t.Errorf("%s: found %d of the %d fields walked to a tls.Conn's descriptor", path, found, len(want))
	}
}

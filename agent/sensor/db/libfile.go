package db

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// fileID names a file by device and inode, as uprobes do: the same library
// reached through several paths, mount namespaces or processes is one file.
// Dev is the kernel's encoding (major << 20 | minor), as BPF reads it.
type fileID struct {
	Dev uint32
	Ino uint64
}

func kernelDev(major, minor uint32) uint32 { return major<<20 | minor }

// mapping is one file-backed line of /proc/<pid>/maps.
type mapping struct {
	id   fileID
	exec bool
	path string // as the process sees it, inside its mount namespace
	span string // the address range as /proc/<pid>/map_files names it
}

// parseMaps reads the file-backed mappings of a /proc/<pid>/maps file.
// Lines it cannot read are skipped: the file is the kernel's, and a line
// without a path is anonymous memory.
func parseMaps(r io.Reader) ([]mapping, error) {
	var out []mapping
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		// addr perms offset dev inode path
		f := strings.Fields(sc.Text())
		if len(f) < 6 || !strings.HasPrefix(f[5], "/") {
			continue
		}
		major, minor, ok := strings.Cut(f[3], ":")
		if !ok {
			continue
		}
		maj, err1 := strconv.ParseUint(major, 16, 32)
		min, err2 := strconv.ParseUint(minor, 16, 32)
		ino, err3 := strconv.ParseUint(f[4], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || ino == 0 {
			continue
		}
		out = append(out, mapping{
			id:   fileID{Dev: kernelDev(uint32(maj), uint32(min)), Ino: ino},
			exec: strings.Contains(f[1], "x"),
			path: strings.Join(f[5:], " "),
			span: mapFilesName(f[0]),
		})
	}
	return out, sc.Err()
}

// mapFilesName turns a maps address range (zero-padded) into the name of
// its entry in map_files (not padded).
func mapFilesName(span string) string {
	lo, hi, ok := strings.Cut(span, "-")
	a, err1 := strconv.ParseUint(lo, 16, 64)
	b, err2 := strconv.ParseUint(hi, 16, 64)
	if !ok || err1 != nil || err2 != nil {
		return span
	}
	return fmt.Sprintf("%x-%x", a, b)
}

// procMaps reads /proc/<pid>/maps under procRoot.
func procMaps(procRoot string, pid uint32) ([]mapping, error) {
	f, err := os.Open(fmt.Sprintf("%s/%d/maps", procRoot, pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseMaps(f)
}

// errNotThatFile means the path a process mapped now names another file:
// the library was replaced or deleted after it was mapped.
var errNotThatFile = errors.New("the path names another file than the one mapped")

// openFile opens path and checks that it is the regular file id, so that a
// path swapped between the kernel's report and the open cannot make the
// sensor probe another file.
func openFile(path string, id fileID) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	got, err := statID(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if got != id {
		f.Close()
		return nil, fmt.Errorf("%s: %w (inode %d on %d, want %d on %d)", path, errNotThatFile, got.Ino, got.Dev, id.Ino, id.Dev)
	}
	return f, nil
}

// statID returns the regular file f's device and inode.
func statID(f *os.File) (fileID, error) {
	v, err := statVersion(f)
	return v.fileID, err
}

// fileVersion is a file and its last change: an inode number a deleted
// file freed can name a new file, which must be judged anew.
type fileVersion struct {
	fileID
	ctime int64
}

func statVersion(f *os.File) (fileVersion, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fileVersion{}, fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fileVersion{}, fmt.Errorf("%s is not a regular file", f.Name())
	}
	return fileVersion{fileID{Dev: kernelDev(unix.Major(st.Dev), unix.Minor(st.Dev)), Ino: st.Ino}, st.Ctim.Nano()}, nil
}

// Kinds of file the sensor probes.
const (
	kindNone    = ""
	kindOpenSSL = "openssl" // exports SSL_read and SSL_write (libssl, renamed copies, static builds)
	kindGoTLS   = "go"      // a Go program with crypto/tls
)

// tlsKind says which TLS probes a file takes, from its contents alone: a
// library is OpenSSL's (or BoringSSL's, or a bundled copy under any name)
// when it defines SSL_read and SSL_write; a program is Go's when it carries
// Go's build information, and uses crypto/tls when (*Conn).Read and Write
// are found in it. An error with a kind says the file is of that kind but
// cannot be probed.
func tlsKind(r io.ReaderAt) (string, error) {
	kind, _, err := inspect(r)
	return kind, err
}

// inspect is tlsKind, with where the Go functions are for a Go program.
func inspect(r io.ReaderAt) (string, []goFunc, error) {
	ef, err := elf.NewFile(r)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return kindNone, nil, nil // not an ELF file: a script or data mapped executable
		}
		return kindNone, nil, fmt.Errorf("reading ELF: %w", err)
	}
	defer ef.Close()
	// Every executable file a process maps is judged, so the symbol tables
	// are read only when their strings name what is looked for.
	if mentions(ef, ".dynstr", "SSL_read\x00", "SSL_write\x00") && definesAll(ef.DynamicSymbols, "SSL_read", "SSL_write") ||
		mentions(ef, ".strtab", "SSL_read\x00", "SSL_write\x00") && definesAll(ef.Symbols, "SSL_read", "SSL_write") {
		return kindOpenSSL, nil, nil
	}
	ver, ok := isGoProgram(r)
	if !ok {
		return kindNone, nil, nil
	}
	if !mentionsGoTLS(ef) {
		return kindNone, nil, nil
	}
	funcs, err := findGoTLS(ef, ver)
	if errors.Is(err, errNotGoTLS) {
		return kindNone, nil, nil
	}
	if err != nil {
		return kindGoTLS, nil, fmt.Errorf("Go program (%s): %w", ver, err)
	}
	return kindGoTLS, funcs, nil
}

// mentions says whether ef's section holds every string.
func mentions(ef *elf.File, section string, strs ...string) bool {
	sec := ef.Section(section)
	if sec == nil || sec.Type == elf.SHT_NOBITS {
		return false
	}
	data, err := sec.Data()
	if err != nil {
		return false
	}
	for _, s := range strs {
		if !bytes.Contains(data, []byte(s)) {
			return false
		}
	}
	return true
}

// mentionsGoTLS says whether a Go program may hold crypto/tls's Conn:
// its pclntab names every function, stripped or not. Without section
// headers there is no telling before the search itself.
func mentionsGoTLS(ef *elf.File) bool {
	if len(ef.Sections) == 0 {
		return true
	}
	for _, sec := range []string{".gopclntab", ".data.rel.ro.gopclntab"} {
		if ef.Section(sec) != nil {
			return mentions(ef, sec, goTLSFuncs[0].name+"\x00", goTLSFuncs[1].name+"\x00")
		}
	}
	return false
}

// definesAll says whether the symbol table read by syms defines every name
// as a function.
func definesAll(syms func() ([]elf.Symbol, error), names ...string) bool {
	list, err := syms()
	if err != nil {
		return false
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	for _, s := range list {
		if want[s.Name] && s.Section != elf.SHN_UNDEF && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			delete(want, s.Name)
		}
	}
	return len(want) == 0
}

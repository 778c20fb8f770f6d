package db

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"errors"
	"fmt"
	"go/version"
	"io"

	"golang.org/x/arch/x86/x86asm"
)

// Go's crypto/tls is read at (*tls.Conn).Write and Read: the plaintext
// buffer and the *tls.Conn at entry, the byte count at each RET
// instruction. Not at a uretprobe: that rewrites the return address on the
// goroutine's stack, which Go copies elsewhere when it grows, and the
// program crashes. Arguments and results are in registers (the register
// ABI, Go 1.17 on amd64), and the goroutine (R14) keys the call, since it
// can move to another thread between entry and return.

// goTLSFuncs are the functions probed, with the entry program of each.
var goTLSFuncs = []struct{ name, entry string }{
	{"crypto/tls.(*Conn).Write", "go_tls_write"},
	{"crypto/tls.(*Conn).Read", "go_tls_read"},
}

// goTLSRet is the program at every RET of the functions.
const goTLSRet = "go_tls_ret"

// goFunc is where one function's entry and RET instructions are in its
// file (file offsets, as uprobes take them).
type goFunc struct {
	name  string
	entry uint64
	rets  []uint64
}

// errNotGoTLS means a file is not a Go program that uses crypto/tls.
var errNotGoTLS = errors.New("not a Go program using crypto/tls")

// minGoVersion is the first with the register ABI on amd64.
const minGoVersion = "go1.17"

// isGoProgram says whether the ELF file r was built by Go, and with which
// version.
func isGoProgram(r io.ReaderAt) (string, bool) {
	bi, err := buildinfo.Read(r)
	if err != nil {
		return "", false
	}
	return bi.GoVersion, true
}

// findGoTLS locates goTLSFuncs in the Go program ef: by its symbol table,
// or when it is stripped (-ldflags=-s) by its pclntab, which Go keeps
// for stack traces, even without section headers (Go 1.18 on). It fails
// when neither names the functions, for another architecture than amd64,
// and for Go before minGoVersion.
func findGoTLS(ef *elf.File, goVersion string) ([]goFunc, error) {
	if ef.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("built for %v: Go TLS probes support amd64 only", ef.Machine)
	}
	if version.IsValid(goVersion) && version.Compare(goVersion, minGoVersion) < 0 {
		return nil, fmt.Errorf("built with %s: Go TLS probes need the register ABI (%s or later)", goVersion, minGoVersion)
	}
	bounds, err := goFuncBounds(ef)
	if err != nil {
		return nil, err
	}
	var out []goFunc
	for _, fn := range goTLSFuncs {
		b, ok := bounds[fn.name]
		if !ok {
			return nil, errNotGoTLS
		}
		gf, err := locateRets(ef, fn.name, b[0], b[1])
		if err != nil {
			return nil, err
		}
		out = append(out, gf)
	}
	return out, nil
}

// goFuncBounds returns the [start, end) virtual addresses of goTLSFuncs
// found in ef.
func goFuncBounds(ef *elf.File) (map[string][2]uint64, error) {
	out := map[string][2]uint64{}
	want := map[string]bool{}
	for _, fn := range goTLSFuncs {
		want[fn.name] = true
	}
	if syms, err := ef.Symbols(); err == nil {
		for _, s := range syms {
			if want[s.Name] && elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Size > 0 {
				out[s.Name] = [2]uint64{s.Value, s.Value + s.Size}
			}
		}
		if len(out) == len(want) {
			return out, nil
		}
	}
	data, textStart, err := pclntab(ef)
	if err != nil {
		return nil, err
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, textStart))
	if err != nil {
		return nil, fmt.Errorf("reading pclntab: %w", err)
	}
	for name := range want {
		if f := tab.LookupFunc(name); f != nil && f.End > f.Entry {
			out[name] = [2]uint64{f.Entry, f.End}
		}
	}
	return out, nil
}

// pclntab returns ef's pclntab and the address its function addresses are
// relative to: from its section, or in a program stripped of its section
// headers too, found by its header in the read-only segments.
func pclntab(ef *elf.File) ([]byte, uint64, error) {
	pcln := ef.Section(".gopclntab")
	if pcln == nil {
		pcln = ef.Section(".data.rel.ro.gopclntab")
	}
	text := ef.Section(".text")
	if pcln != nil && text != nil {
		data, err := pcln.Data()
		if err != nil {
			return nil, 0, fmt.Errorf("reading pclntab: %w", err)
		}
		return data, goTextStart(ef, text), nil
	}
	for _, p := range ef.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&(elf.PF_X|elf.PF_W) != 0 || p.Filesz > 1<<30 {
			continue
		}
		seg := make([]byte, p.Filesz)
		if _, err := p.ReadAt(seg, 0); err != nil {
			continue
		}
		if data, textStart, ok := findPclntab(ef, p.Vaddr, seg); ok {
			return data, textStart, nil
		}
	}
	return nil, 0, errors.New("stripped of its symbols and section headers, and no pclntab found in its segments to locate crypto/tls")
}

// pclntabMagics start the pclntab header of Go 1.20 and later (1.18's ends
// in f0): the magic, two zero bytes, the instruction size quantum (1 on
// amd64) and the pointer size.
var pclntabMagics = [][]byte{{0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8}, {0xf0, 0xff, 0xff, 0xff, 0, 0, 1, 8}}

// Offsets in runtime.moduledata (Go 1.18 on): its first field points at
// the pclntab header, and text is the address pclntab's entries are
// relative to (after pcHeader, five slices, ftab, findfunctab, minpc and
// maxpc).
const (
	moduledataText = 8 + 5*24 + 24 + 8 + 8 + 8
	moduledataLen  = moduledataText + 16
)

// findPclntab finds, in the read-only segment seg loaded at vaddr, a
// pclntab header that the module data in a writable segment points at,
// whose table names runtime.main, and returns the table and its text
// start.
func findPclntab(ef *elf.File, vaddr uint64, seg []byte) ([]byte, uint64, bool) {
	for _, magic := range pclntabMagics {
		for off := 0; ; {
			i := bytes.Index(seg[off:], magic)
			if i < 0 {
				break
			}
			at := off + i
			off = at + 1
			for _, text := range moduledataTexts(ef, vaddr+uint64(at)) {
				tab, err := gosym.NewTable(nil, gosym.NewLineTable(seg[at:], text))
				if err == nil && tab.LookupFunc("runtime.main") != nil {
					return seg[at:], text, true
				}
			}
		}
	}
	return nil, 0, false
}

// moduledataTexts returns the text field of every would-be module data in
// ef's writable segments whose first field is header.
func moduledataTexts(ef *elf.File, header uint64) []uint64 {
	var want [8]byte
	binary.LittleEndian.PutUint64(want[:], header)
	var out []uint64
	for _, p := range ef.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_W == 0 || p.Filesz > 1<<30 {
			continue
		}
		seg := make([]byte, p.Filesz)
		if _, err := p.ReadAt(seg, 0); err != nil {
			continue
		}
		for off := 0; ; {
			i := bytes.Index(seg[off:], want[:])
			if i < 0 {
				break
			}
			at := off + i
			off = at + 8
			if at%8 == 0 && len(seg)-at >= moduledataLen {
				out = append(out, binary.LittleEndian.Uint64(seg[at+moduledataText:]))
			}
		}
	}
	return out
}

// goTextStart is runtime.text, which pclntab's addresses are relative to:
// the symbol when there is one, else the start of .text (the same unless
// cgo put C code first, which only a symbol table says).
func goTextStart(ef *elf.File, text *elf.Section) uint64 {
	if syms, err := ef.Symbols(); err == nil {
		for _, s := range syms {
			if s.Name == "runtime.text" {
				return s.Value
			}
		}
	}
	return text.Addr
}

// maxGoFunc bounds the bytes of one function read to find its RETs.
const maxGoFunc = 64 << 10

// locateRets decodes the function at [start, end) and returns its entry and
// RET instructions as file offsets. Any byte it cannot decode fails it: a
// uprobe placed inside an instruction would corrupt the program.
func locateRets(ef *elf.File, name string, start, end uint64) (goFunc, error) {
	if end-start > maxGoFunc {
		return goFunc{}, fmt.Errorf("%s spans %d bytes, more than a function should", name, end-start)
	}
	var seg *elf.Prog
	for _, p := range ef.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && start >= p.Vaddr && end <= p.Vaddr+p.Filesz {
			seg = p
			break
		}
	}
	if seg == nil {
		return goFunc{}, fmt.Errorf("%s at %#x is in no executable segment", name, start)
	}
	code := make([]byte, end-start)
	if _, err := seg.ReadAt(code, int64(start-seg.Vaddr)); err != nil {
		return goFunc{}, fmt.Errorf("reading %s: %w", name, err)
	}
	off := start - seg.Vaddr + seg.Off
	gf := goFunc{name: name, entry: off}
	for i := 0; i < len(code); {
		inst, err := x86asm.Decode(code[i:], 64)
		if err != nil {
			return goFunc{}, fmt.Errorf("decoding %s at +%#x: %w", name, i, err)
		}
		if inst.Op == x86asm.RET {
			gf.rets = append(gf.rets, off+uint64(i))
		}
		i += inst.Len
	}
	if len(gf.rets) == 0 {
		return goFunc{}, fmt.Errorf("%s has no RET instruction", name)
	}
	return gf, nil
}

package sensor

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Kernel ring buffer record header (BPF_RINGBUF_HDR_SZ and the flags in
// the length word, include/uapi/linux/bpf.h).
const (
	ringHdrSize    = 8
	ringBusyBit    = 1 << 31
	ringDiscardBit = 1 << 30
)

// ringReader reads a BPF ring buffer through one mapping of its data
// pages. cilium/ebpf's reader maps them twice in a row, so that a record
// wrapping past the end reads as one slice; the kernel maps every page of
// both at mmap time, so the ring then counts twice its size in the agent's
// RSS. Here a wrapping record is copied in two parts instead. Methods may
// be called from several goroutines; close unmaps only once no read runs.
type ringReader struct {
	mu     sync.Mutex
	cons   []byte // consumer position page, read-write
	prod   []byte // producer position page and the data pages, read-only
	data   []byte
	mask   uint64
	closed bool
}

func newRingReader(m *ebpf.Map) (*ringReader, error) {
	size := int(m.MaxEntries())
	page := os.Getpagesize()
	if size <= 0 || size%page != 0 || size&(size-1) != 0 {
		return nil, fmt.Errorf("mapping ring buffer of %d bytes: not a power of two multiple of the page size", size)
	}
	cons, err := unix.Mmap(m.FD(), 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping ring buffer consumer page: %w", err)
	}
	prod, err := unix.Mmap(m.FD(), int64(page), page+size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		_ = unix.Munmap(cons)
		return nil, fmt.Errorf("mapping ring buffer data pages: %w", err)
	}
	return &ringReader{cons: cons, prod: prod, data: prod[page:], mask: uint64(size - 1)}, nil
}

// positions are read and written atomically: the kernel's producer
// publishes a record's header with a release store after its data.
func (r *ringReader) consPos() *uint64 { return (*uint64)(unsafe.Pointer(&r.cons[0])) }
func (r *ringReader) prodPos() *uint64 { return (*uint64)(unsafe.Pointer(&r.prod[0])) }

// available is how many bytes wait to be read (0 once closed).
func (r *ringReader) available() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0
	}
	return int(atomic.LoadUint64(r.prodPos()) - atomic.LoadUint64(r.consPos()))
}

// read copies the next record into buf (grown if needed) and returns it;
// ok is false when no committed record waits (the ring is empty, or the
// next record is still being written). Discarded records are skipped.
func (r *ringReader) read(buf []byte) (out []byte, ok bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, false, ErrClosed
	}
	prod := atomic.LoadUint64(r.prodPos())
	cons := atomic.LoadUint64(r.consPos())
	for {
		if prod-cons == 0 {
			return buf[:0], false, nil
		}
		if prod-cons < ringHdrSize {
			return buf[:0], false, fmt.Errorf("reading ring buffer: %d bytes wait, less than a record header", prod-cons)
		}
		// Headers are 8-byte aligned in a ring of a multiple of 8
		// bytes: one never wraps.
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[cons&r.mask])))
		if hdr&ringBusyBit != 0 {
			return buf[:0], false, nil
		}
		n := uint64(hdr &^ (ringBusyBit | ringDiscardBit))
		next := cons + ringHdrSize + (n+7)&^7
		if next-cons > prod-cons {
			return buf[:0], false, fmt.Errorf("reading ring buffer: a %d byte record with only %d bytes written", n, prod-cons-ringHdrSize)
		}
		if hdr&ringDiscardBit != 0 {
			cons = next
			atomic.StoreUint64(r.consPos(), cons)
			continue
		}
		if uint64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		start := (cons + ringHdrSize) & r.mask
		c := copy(buf, r.data[start:])
		copy(buf[c:], r.data)
		atomic.StoreUint64(r.consPos(), next)
		return buf, true, nil
	}
}

// close unmaps the ring; reads after it return ErrClosed.
func (r *ringReader) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.data = nil
	errProd := unix.Munmap(r.prod)
	errCons := unix.Munmap(r.cons)
	if errProd != nil {
		return fmt.Errorf("unmapping ring buffer: %w", errProd)
	}
	if errCons != nil {
		return fmt.Errorf("unmapping ring buffer: %w", errCons)
	}
	return nil
}

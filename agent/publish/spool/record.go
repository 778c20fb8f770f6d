package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// recHeader is a record's length and checksum.
const recHeader = 8

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Pos is a place in the spool: segment number, byte offset and the index of
// the record at that offset within its segment.
type Pos struct {
	seg uint64
	off int64
	idx int64
}

func (p Pos) before(q Pos) bool {
	return p.seg < q.seg || p.seg == q.seg && p.off < q.off
}

// Record is one message to publish: subject, Nats-Msg-Id and the event.
type Record struct {
	Subject, ID string
	Data        []byte
}

// MemSize is what a record costs in the tail, roughly.
func (r *Record) MemSize() int64 { return int64(len(r.Subject) + len(r.ID) + len(r.Data) + 96) }

// Entry is a record and where it sits in the spool: at, and next just
// after it.
type Entry struct {
	Record
	At, Next Pos
}

// readRecord reads one record into buf (when it has room; nil to skip) and
// returns the payload length.
func readRecord(r io.Reader, buf *[]byte) (int, error) {
	var h [recHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, err
	}
	n := binary.BigEndian.Uint32(h[:4])
	if n > 16<<20 {
		return 0, fmt.Errorf("spool record of %d bytes: corrupt", n)
	}
	var data []byte
	if buf != nil && cap(*buf) >= int(n) {
		data = (*buf)[:n]
	} else {
		data = make([]byte, n)
	}
	if _, err := io.ReadFull(r, data); err != nil {
		return 0, err
	}
	if crc32.Checksum(data, crcTable) != binary.BigEndian.Uint32(h[4:]) {
		return 0, errors.New("spool record checksum mismatch")
	}
	if buf != nil {
		*buf = data
	}
	return int(n), nil
}

// splitRecord splits a record's payload into subject, message id and event.
func splitRecord(rec []byte) (subj, id, data []byte, err error) {
	subj, rec, ok := cutField(rec)
	if ok {
		id, rec, ok = cutField(rec)
	}
	if !ok {
		return nil, nil, nil, errors.New("bad spool record")
	}
	return subj, id, rec, nil
}

// appendField appends f with its uvarint length before it.
func appendField(b []byte, f string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(f))), f...)
}

// cutField cuts a field appendField wrote off the front of b.
func cutField(b []byte) (f, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

package spool

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// frame is a record as Append writes it: header, subject, id, data.
func frame(subj, id, data string) []byte {
	payload := append(appendField(appendField(nil, subj), id), data...)
	var h [recHeader]byte
	binary.BigEndian.PutUint32(h[:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(h[4:], crc32.Checksum(payload, crcTable))
	return append(h[:], payload...)
}

// A framed record reads back whole; a flipped bit, a cut record and an
// absurd length are errors, never a record.
func TestReadRecord(t *testing.T) {
	good := frame("vigil.s.a.events", "b-1", `{"seq":1}`)
	var buf []byte
	n, err := readRecord(bytes.NewReader(good), &buf)
	if err != nil || n != len(good)-recHeader {
		t.Fatalf("readRecord = %d, %v", n, err)
	}
	subj, id, data, err := splitRecord(buf)
	if err != nil || string(subj) != "vigil.s.a.events" || string(id) != "b-1" || string(data) != `{"seq":1}` {
		t.Fatalf("split = %q %q %q %v", subj, id, data, err)
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)-2] ^= 1
	huge := bytes.Clone(good)
	binary.BigEndian.PutUint32(huge, 17<<20)
	for name, b := range map[string][]byte{"flipped bit": flipped, "cut": good[:len(good)-3], "huge length": huge, "header only": good[:4]} {
		if _, err := readRecord(bytes.NewReader(b), &buf); err == nil {
			t.Errorf("%s: read as a record", name)
		}
	}
}

// A payload whose fields run past its end is refused.
func TestSplitRecordRefusesBadFields(t *testing.T) {
	for _, b := range [][]byte{nil, {5, 'a'}, appendField(nil, "subject-only")[:3], {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}} {
		if _, _, _, err := splitRecord(b); err == nil {
			t.Errorf("splitRecord(%q) accepted", b)
		}
	}
}

// Positions order by segment, then offset.
func TestPosBefore(t *testing.T) {
	a, b, c := Pos{seg: 1, off: 10}, Pos{seg: 1, off: 20}, Pos{seg: 2}
	if !a.before(b) || !b.before(c) || c.before(a) || a.before(a) {
		t.Error("positions out of order")
	}
}

package db

import (
	"bytes"
	"encoding/binary"
	"testing"
	"unsafe"
)

// dataRecord builds a raw db data record as the kernel sends it.
func dataRecord(payload []byte, length, tail uint32) []byte {
	var r dbDbDataRec
	r.Hdr.Type = RecData
	r.Hdr.Pid = 42
	r.Conn.Family = 2
	r.Conn.Lport = 40000
	r.Conn.Rport = 5432
	copy(r.Conn.Raddr[:], []byte{127, 0, 0, 1})
	r.Len = length
	r.Cap = uint32(len(payload))
	r.Tail = tail
	head := int(unsafe.Offsetof(r.Data))
	out := append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(&r)), head)...)
	return append(out, payload...)
}

func TestDecodeData(t *testing.T) {
	payload := []byte("Q\x00\x00\x00\x0dSELECT 1\x00")
	rec, err := Decode(RecData, dataRecord(payload, 100, 4))
	if err != nil {
		t.Fatal(err)
	}
	d := rec.(*Data)
	if !bytes.Equal(d.Data, payload) || d.Len != 100 || d.Tail != 4 || !d.Sent || d.PID != 42 ||
		d.Conn.Remote.String() != "127.0.0.1:5432" || d.Conn.Local.Port() != 40000 {
		t.Errorf("decoded %+v", d)
	}
	// A record claiming more captured bytes than it carries is rejected.
	bad := dataRecord(payload, 100, 0)
	binary.LittleEndian.PutUint32(bad[int(unsafe.Offsetof(dbDbDataRec{}.Cap)):], 5000)
	if _, err := Decode(RecData, bad); err == nil {
		t.Error("a record claiming 5000 bytes decoded")
	}
	if _, err := Decode(RecData, bad[:10]); err == nil {
		t.Error("a short record decoded")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(uint32(RecData), dataRecord([]byte("Q\x00\x00\x00\x0dSELECT 1\x00"), 14, 0))
	f.Add(uint32(RecClose), make([]byte, 100))
	f.Fuzz(func(t *testing.T, typ uint32, raw []byte) {
		r, err := Decode(typ, raw)
		if err == nil && r == nil {
			t.Fatal("no record and no error")
		}
		if d, ok := r.(*Data); ok && (d.Tail > len(d.Data) || len(d.Data) > d.Len) {
			t.Fatalf("inconsistent record %+v", d)
		}
	})
}

// dataHead must be the generated data record's fixed part, field for field.
func TestDataHeadLayout(t *testing.T) {
	var h dataHead
	var r dbDbDataRec
	if unsafe.Offsetof(h.Hdr) != unsafe.Offsetof(r.Hdr) || unsafe.Offsetof(h.Conn) != unsafe.Offsetof(r.Conn) ||
		unsafe.Sizeof(h.Hdr) != unsafe.Sizeof(r.Hdr) || unsafe.Sizeof(h.Conn) != unsafe.Sizeof(r.Conn) ||
		unsafe.Offsetof(h.Len) != unsafe.Offsetof(r.Len) || unsafe.Offsetof(h.Cap) != unsafe.Offsetof(r.Cap) ||
		unsafe.Offsetof(h.Tail) != unsafe.Offsetof(r.Tail) || unsafe.Offsetof(h.Dir) != unsafe.Offsetof(r.Dir) ||
		unsafe.Offsetof(h.Tls) != unsafe.Offsetof(r.Tls) || unsafe.Sizeof(h) != unsafe.Offsetof(r.Data) {
		t.Fatalf("dataHead does not match dbDbDataRec: regenerate both from bpf/events.h")
	}
}

// A Unix socket's names decode to its paths (an abstract one as "@name")
// and its ends' identities; lengths past the arrays are refused.
func TestDecodeUnix(t *testing.T) {
	var r dbDbUnixRec
	r.Hdr.Type = RecUnix
	r.Conn.Sock, r.Conn.Family, r.Conn.Ino, r.Conn.Peer = 0xffff0001, 1, 11, 0xffff0002
	r.PeerIno = 12
	peer := "/run/postgresql/.s.PGSQL.5432"
	for i, c := range []byte(peer) {
		r.PeerPath[i] = int8(c)
	}
	r.PeerPathLen = uint16(len(peer))
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&r.Path[0])), len(r.Path)), "\x00abstract")
	r.PathLen = 9
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&r)), unsafe.Sizeof(r))
	rec, err := Decode(RecUnix, raw)
	if err != nil {
		t.Fatal(err)
	}
	u := rec.(*UnixEnds)
	if u.PeerPath != peer || u.Path != "@abstract" || u.PeerIno != 12 ||
		u.Conn != (Conn{Sock: 0xffff0001, Ino: 11, Peer: 0xffff0002}) || !u.Conn.Unix() {
		t.Errorf("decoded %+v", u)
	}
	r.PathLen = 200
	if _, err := Decode(RecUnix, unsafe.Slice((*byte)(unsafe.Pointer(&r)), unsafe.Sizeof(r))); err == nil {
		t.Error("a path length past the array decoded")
	}
}

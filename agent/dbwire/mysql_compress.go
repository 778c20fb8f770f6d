package dbwire

import (
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// MySQL's compressed protocol (CLIENT_COMPRESS, zlib, or MySQL 8's
// CLIENT_ZSTD_COMPRESSION_ALGORITHM) starts once authentication is over:
// from then on each direction is a stream of compressed packets, a 7-byte
// header (payload length, sequence, length once uncompressed, 0 when the
// payload is sent as is) and a payload holding ordinary packets, which
// need not start or end at a packet boundary.
const (
	myClientZstd    = 0x04000000
	myCompHeaderLen = 7
	// myMaxCompressed is the largest length a compressed packet's header
	// can give (3 bytes), and so bounds what the zstd decoder may allocate.
	myMaxCompressed = 0xffffff
)

// myInflater undoes the compressed protocol for one direction, handing
// the ordinary packets inside to that direction's reader.
type myInflater struct {
	zstd    bool
	hdr     [myCompHeaderLen]byte
	hn      int
	need    int    // payload bytes still to come
	ulen    int    // the payload's length once uncompressed, 0 when stored
	payload []byte // compressed payload bytes, collected
	gap     bool   // some of the payload's bytes were not captured
	lost    bool   // position in the compressed stream unknown
	out     []byte
	zr      io.ReadCloser
	zd      *zstd.Decoder
	// deliver hands on len(data) ordinary bytes, then missing bytes that
	// were not captured or did not inflate.
	deliver func(ts time.Time, data []byte, missing int)
}

// feed takes len(data) captured bytes and then missing bytes that were not
// captured.
func (z *myInflater) feed(ts time.Time, data []byte, missing int) error {
	for len(data) > 0 && !z.lost {
		if z.hn < myCompHeaderLen {
			c := copy(z.hdr[z.hn:], data)
			z.hn += c
			data = data[c:]
			if z.hn < myCompHeaderLen {
				break
			}
			z.need = int(z.hdr[0]) | int(z.hdr[1])<<8 | int(z.hdr[2])<<16
			z.ulen = int(z.hdr[4]) | int(z.hdr[5])<<8 | int(z.hdr[6])<<16
			z.payload, z.gap = z.payload[:0], false
			if z.need == 0 {
				z.hn = 0
			}
			continue
		}
		take := min(z.need, len(data))
		switch {
		case z.ulen == 0:
			z.deliver(ts, data[:take], 0) // stored as is
		case !z.gap:
			// After a gap only the head inflates: the rest is not kept.
			z.payload = append(z.payload, data[:take]...)
		}
		z.need -= take
		data = data[take:]
		if z.need == 0 {
			if err := z.done(ts); err != nil {
				return err
			}
		}
	}
	if missing > 0 && !z.lost {
		return z.skip(ts, missing)
	}
	return nil
}

// skip passes over n bytes that were not captured: inside one compressed
// packet its place is kept, past its end it is lost.
func (z *myInflater) skip(ts time.Time, n int) error {
	if z.hn < myCompHeaderLen || n > z.need {
		z.lost = true
		z.deliver(ts, nil, 1) // the reader loses its place too
		return nil
	}
	if z.ulen == 0 {
		z.deliver(ts, nil, n)
	}
	z.need -= n
	z.gap = true
	if z.need == 0 {
		return z.done(ts)
	}
	return nil
}

// errMyInflate says a compressed payload did not inflate.
var errMyInflate = errors.New("compressed packet does not inflate")

// done hands on a compressed packet's contents once its payload is in:
// as much as inflates of a payload with bytes missing, and the rest as
// missing.
func (z *myInflater) done(ts time.Time) error {
	z.hn = 0
	if z.ulen == 0 {
		return nil
	}
	got, err := z.inflate()
	if err != nil && !z.gap {
		return err
	}
	z.deliver(ts, got, z.ulen-len(got))
	return nil
}

func (z *myInflater) inflate() ([]byte, error) {
	z.out = z.out[:0]
	if z.zstd {
		if z.zd == nil {
			d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(myMaxCompressed+1))
			if err != nil {
				return nil, err
			}
			z.zd = d
		}
		out, err := z.zd.DecodeAll(z.payload, z.out)
		z.out = out
		if len(out) > z.ulen {
			// More than the header said: a malformed packet, whose excess
			// must not be handed on as the next packets' bytes.
			return z.out[:z.ulen], errMyInflate
		}
		if err != nil {
			return z.out, errMyInflate
		}
		return z.out, nil
	}
	src := bytes.NewReader(z.payload)
	if z.zr == nil {
		r, err := zlib.NewReader(src)
		if err != nil {
			return nil, errMyInflate
		}
		z.zr = r
	} else if err := z.zr.(zlib.Resetter).Reset(src, nil); err != nil {
		return nil, errMyInflate
	}
	z.out = growTo(z.out, z.ulen)
	n, err := io.ReadFull(z.zr, z.out)
	z.out = z.out[:n]
	if err != nil {
		return z.out, errMyInflate
	}
	return z.out, nil
}

// growTo returns b with length n, reusing its array when it is large
// enough.
func growTo(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]byte, n)
}

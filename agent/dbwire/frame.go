package dbwire

import (
	"bytes"
	"time"
)

// Bounds of both engines' resync.
const (
	// maxRunPast bounds the length of a message that runs past the capture
	// a resync found it in.
	maxRunPast = 1 << 20
	// maxChain is how many well-formed messages in a row are enough to
	// trust a boundary without reading to the end of the capture.
	maxChain = 32
)

// framer is a protocol's view of one direction's message framing.
type framer interface {
	// headerLen is the length of the next message's header.
	headerLen(dir Direction) int
	// bodyLen validates a header and returns the body length and how many
	// body bytes to keep for message.
	bodyLen(dir Direction, hdr []byte) (n, keep int, ok bool)
	// message handles one message. body holds the kept prefix; complete is
	// false when some of its bytes were not captured. start is when its first
	// byte arrived, end when its last did.
	message(dir Direction, start, end time.Time, hdr, body []byte, n int, complete bool)
	// resync returns the offset of a plausible message boundary in data, or
	// -1. data starts at an unknown position in the stream.
	resync(dir Direction, data []byte) int
	// gap reports n bytes that could not be placed in any message.
	gap(dir Direction, n int)
}

// reader splits one direction's byte stream into messages.
type reader struct {
	dir     Direction
	t       *Tracker
	f       framer
	hdr     [16]byte
	hn      int // header bytes read
	hlen    int
	inBody  bool
	body    []byte
	need    int // body bytes still to come
	n       int // body length
	keep    int
	partial bool // some body bytes were not captured
	lost    bool // position in the stream unknown
	start   time.Time
}

func (r *reader) feed(ts time.Time, data []byte, missing int) {
	for len(data) > 0 && !r.t.sess.GaveUp && !r.t.sess.Encrypted {
		if r.lost {
			i := r.f.resync(r.dir, data)
			if i < 0 {
				r.t.lost(len(data))
				r.f.gap(r.dir, len(data))
				data = nil
				break
			}
			if i > 0 {
				r.t.lost(i)
				r.f.gap(r.dir, i)
			}
			r.lost = false
			r.hn = 0
			r.t.stats.Resyncs++
			r.t.found()
			data = data[i:]
			continue
		}
		if !r.inBody {
			if r.hn == 0 {
				r.hlen = r.f.headerLen(r.dir)
				r.start = ts
				if r.hlen <= 0 || r.hlen > len(r.hdr) {
					// The protocol expects nothing from this direction now.
					r.t.stats.ParseErrors++
					r.lost = true
					continue
				}
			}
			c := copy(r.hdr[r.hn:r.hlen], data)
			r.hn += c
			data = data[c:]
			if r.hn < r.hlen {
				break
			}
			n, keep, ok := r.f.bodyLen(r.dir, r.hdr[:r.hlen])
			if !ok {
				// Look for a boundary after this false header (a boundary
				// inside its few bytes is given up rather than copying the
				// rest of the capture).
				r.t.stats.ParseErrors++
				r.t.lost(r.hlen)
				r.f.gap(r.dir, r.hlen)
				r.lost = true
				r.hn = 0
				continue
			}
			r.inBody, r.n, r.need, r.keep, r.partial = true, n, n, min(keep, n), false
			r.body = r.body[:0]
		}
		take := min(r.need, len(data))
		if k := r.keep - len(r.body); k > 0 {
			r.body = append(r.body, data[:min(k, take)]...)
		}
		r.need -= take
		data = data[take:]
		if r.need == 0 {
			r.deliver(ts)
		}
	}
	if missing > 0 {
		r.skip(ts, missing)
	}
}

// skip passes over n bytes that were not captured.
func (r *reader) skip(ts time.Time, n int) {
	if r.t.sess.GaveUp || r.t.sess.Encrypted {
		return
	}
	if !r.lost && r.inBody {
		if n <= r.need {
			r.need -= n
			r.partial = true
			if r.need == 0 {
				r.deliver(ts)
			}
			return
		}
		n -= r.need
		r.need = 0
		r.partial = true
		r.deliver(ts)
	}
	r.lost = true
	r.hn = 0
	r.t.lost(n)
	r.f.gap(r.dir, n)
}

func (r *reader) deliver(ts time.Time) {
	r.inBody = false
	r.hn = 0
	r.t.stats.Messages++
	r.f.message(r.dir, r.start, ts, r.hdr[:r.hlen], r.body, r.n, !r.partial)
	if cap(r.body) > 4*r.t.cfg.MaxMessage {
		r.body = nil
	}
}

// cstring reads a NUL-terminated string.
func cstring(b []byte) (string, []byte, bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", b, false
	}
	return string(b[:i]), b[i+1:], true
}

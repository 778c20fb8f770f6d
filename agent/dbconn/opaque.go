package dbconn

import (
	"time"

	"github.com/vigilhq/vigil/agent/dbwire"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/event"
)

// An opaque connection end is one whose statements cannot be read: TLS
// that no probe shows the plaintext of, or a tracker that gave up. It is
// reported as a db.session when it is found so ("start"), while it stays
// open and moves bytes ("interim", every SessionEvery at most) and when it
// ends ("end"), with the bytes its socket moved each way: a long encrypted
// session is visible while it runs, not only once it is over.

// opaque is what an end's reports need.
type opaque struct {
	found    bool      // reported as unreadable
	opened   time.Time // first record
	reported time.Time // last report
	toServer uint64    // socket bytes each way
	toClient uint64
	// appRecords counts TLS application-data records the client sent
	// after the switch to TLS: a probed client's stop reaching the socket
	// capture at its first SSL_write, so a second one (TLS 1.3 sends its
	// Finished as one) means no probe reads this connection.
	appRecords int
}

// DefaultSessionEvery is Options.SessionEvery when it is zero.
const DefaultSessionEvery = time.Minute

// count notes the socket bytes of d.
func (cn *conn) count(d *db.Data, ts time.Time, dir dbwire.Direction) {
	o := &cn.opaque
	if o.opened.IsZero() {
		o.opened = ts
	}
	if d.TLS {
		return // plaintext: the socket carried it already, encrypted
	}
	if dir == dbwire.ClientToServer {
		o.toServer += uint64(d.Len)
		if cn.plain != nil && cn.plain.Session().Encrypted {
			o.appRecords += tlsAppRecords(d.Data)
		}
	} else {
		o.toClient += uint64(d.Len)
	}
}

// unreadable says whether connection end cn's statements cannot be read.
func (cn *conn) unreadable() (*dbwire.Tracker, bool) {
	if cn.plain != nil && cn.plain.Session().GaveUp {
		return cn.plain, true
	}
	if cn.tls != nil && cn.tls.Session().GaveUp {
		return cn.tls, true
	}
	if cn.unobservedTLS() && cn.opaque.appRecords >= 2 {
		return cn.plain, true
	}
	return nil, false
}

// checkOpaque reports cn when it is first found unreadable, and then at
// most every SessionEvery while it moves bytes.
func (c *Conns) checkOpaque(cn *conn, ts time.Time) {
	o := &cn.opaque
	if o.found {
		if ts.Sub(o.reported) >= c.sessionEvery {
			c.session(cn, ts, "interim")
		}
		return
	}
	t, ok := cn.unreadable()
	if !ok {
		return
	}
	o.found = true
	if s := t.Session(); s.GaveUp {
		c.gaveUps[s.Reason]++
	}
	c.session(cn, ts, "start")
}

// endOpaque reports, as it closes, an end found unreadable, or one whose
// TLS no probe read before it closed.
func (c *Conns) endOpaque(cn *conn, ts time.Time) {
	if cn.opaque.found || cn.unobservedTLS() {
		c.session(cn, ts, "end")
	}
}

// session reports connection end cn, whose statements cannot be read, as
// a db.session saying why.
func (c *Conns) session(cn *conn, ts time.Time, state string) {
	o := &cn.opaque
	o.reported = ts
	p := c.procs.Lookup(&cn.header)
	var s dbwire.Session
	if t, ok := cn.unreadable(); ok {
		s = t.Session()
	} else if cn.plain != nil {
		s = cn.plain.Session()
	}
	d := &event.DB{Engine: cn.engine, User: s.User, Database: s.Database, Encrypted: s.Encrypted, Reason: s.Reason,
		State: state, BytesToServer: o.toServer, BytesToClient: o.toClient,
		DurationMS: float64(ts.Sub(o.opened)) / float64(time.Millisecond)}
	cn.complete(d, s.Encrypted)
	// Like any event of the process that is not a statement, it follows
	// the runs held for the process.
	if c.folds != nil {
		c.folds.flushProcess(p.PID, &c.out)
	}
	c.out.add(&event.Event{Time: ts, Kind: event.KindDBSession, Process: &p, DB: d})
}

// tlsAppRecords counts the TLS application-data records that start in b,
// a capture that starts at a record boundary (one write of a TLS stack).
func tlsAppRecords(b []byte) int {
	n := 0
	for len(b) >= 5 && b[1] == 3 {
		if b[0] == 0x17 {
			n++
		}
		b = b[min(len(b), 5+(int(b[3])<<8|int(b[4]))):]
	}
	return n
}

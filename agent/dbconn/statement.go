package dbconn

import (
	"time"

	"github.com/vigilhq/vigil/agent/dbwire"
	"github.com/vigilhq/vigil/event"
)

// statements turns a tracker's records into events of connection end cn.
func (c *Conns) statements(cn *conn, recs []dbwire.Record, tls bool) {
	if len(recs) == 0 {
		return
	}
	p := c.procs.Lookup(&cn.header)
	for i := range recs {
		r := &recs[i] // the tracker's, until its next call
		cn.complete(&r.DB, tls)
		r.DB.Partial = r.Partial && !r.RowsFromServer
		ts := r.End
		if ts.IsZero() {
			ts = r.Start
		}
		c.statement(cn.end.Sock, &r.DB, ts, &p)
	}
}

// statement reports one run of a statement on connection sock, d at ts by
// proc, folding repeats when folding is on. A run folded into a window
// that holds runs already makes no event of its own (most runs of a busy
// client's statements); otherwise the event gets copies of d and proc,
// which the caller may reuse.
func (c *Conns) statement(sock uint64, d *event.DB, ts time.Time, proc *event.Process) {
	if c.folds == nil || c.stopped {
		c.out.add(statementEvent(d, ts, proc))
		return
	}
	c.folds.expire(ts, &c.out)
	if !c.folds.into(sock, d, ts, proc) {
		c.folds.add(sock, statementEvent(d, ts, proc), &c.out)
	}
	c.arm()
}

// statementEvent is the db.query event of one run: d at ts by proc, copied.
func statementEvent(d *event.DB, ts time.Time, proc *event.Process) *event.Event {
	dc, pc := *d, *proc
	return &event.Event{Time: ts, Kind: event.KindDBQuery, Process: &pc, DB: &dc}
}

// finish reports what a connection end's trackers still hold, a
// connection whose statements could not be read, and the runs its folds
// hold.
func (c *Conns) finish(cn *conn, ts time.Time) {
	if cn.plain != nil {
		c.statements(cn, cn.plain.Close(ts), false)
	}
	if cn.tls != nil {
		c.statements(cn, cn.tls.Close(ts), true)
	}
	c.endOpaque(cn, ts)
	if c.folds != nil {
		c.folds.flushConn(cn.end.Sock, &c.out)
	}
}

// complete adds what the connection knows to a statement's payload.
func (cn *conn) complete(d *event.DB, tls bool) {
	d.Side = cn.side
	d.TLS = tls
	d.Client, d.Server = cn.client, cn.server
	if d.Engine == "" {
		d.Engine = cn.engine
	}
}

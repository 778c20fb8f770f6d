package dbconn

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vigilhq/vigil/event"
)

// Statement folding: a program that runs one statement over and over (a
// pgbench-like workload, an application's lookup loop, a paginated dump)
// costs one event per fold window instead of one per run. The first run of
// a statement is reported at once, so a single dump or export is never
// delayed; the runs after it within the window are reported together when
// the window ends, as one db.query with db.executions and totals of rows,
// bytes and time. Host rules run on the events as reported, and a threshold
// count counts runs (db.executions).
//
// Runs fold only when they are equal in everything but those counts and
// times, identifier hashes included: a rule grouped by customer then counts
// a folded event in that one customer's group, as it would each run. A
// person browsing different customers is not folded at all; that is a
// person's pace, not a program's.

// foldKey says which runs fold together: one statement text with one
// outcome and the same identifiers, on one end of one connection, from one
// process.
type foldKey struct {
	sock      uint64
	pid       uint32
	tls       bool
	statement string
	command   string
	user      string
	database  string
	errCode   string
	err       string
	ids       string // the identifier hashes, flattened
}

func foldKeyOf(sock uint64, ev *event.Event) foldKey {
	var pid uint32
	if ev.Process != nil {
		pid = ev.Process.PID
	}
	return foldKeyFor(sock, pid, ev.DB)
}

func foldKeyFor(sock uint64, pid uint32, d *event.DB) foldKey {
	k := foldKey{sock: sock, pid: pid, tls: d.TLS, statement: d.Statement, command: d.Command, user: d.User,
		database: d.Database, errCode: d.ErrorCode, err: d.Error}
	if len(d.Identifiers) > 0 {
		var b strings.Builder
		for _, col := range slices.Sorted(maps.Keys(d.Identifiers)) {
			b.WriteString(col)
			for _, h := range d.Identifiers[col] {
				b.WriteByte(0)
				b.WriteString(h)
			}
			b.WriteByte(1)
		}
		k.ids = b.String()
	}
	return k
}

// maxOpenFolds bounds the statements followed at once; runs of statements
// beyond it are reported one by one, unfolded.
const maxOpenFolds = 4096

// fold is one statement's open window.
type fold struct {
	key      foldKey
	deadline time.Time
	ev       *event.Event // the runs after the first, folded; nil until one comes
	done     bool
	// What the opening run read: one FETCH text reads whichever cursor
	// of that name was declared last, so equal text is not enough.
	tables, resultColumns []string
}

// sameRead reports whether run d read what the window's runs did.
func (f *fold) sameRead(d *event.DB) bool {
	return slices.Equal(f.tables, d.Tables) && slices.Equal(f.resultColumns, d.ResultColumns)
}

// folds holds the open windows. Conns' mutex guards it.
type folds struct {
	window  time.Duration
	open    map[foldKey]*fold
	queue   []*fold            // by deadline: windows open in time order
	bySock  map[uint64][]*fold // open windows by connection, for its close
	holding map[uint32]int     // folds holding runs, by process
}

func newFolds(window time.Duration) *folds {
	return &folds{window: window, open: map[foldKey]*fold{}, bySock: map[uint64][]*fold{}, holding: map[uint32]int{}}
}

// add takes one run of a statement on connection sock: it is emitted now if
// it opens a window, else folded into the window's event.
func (fs *folds) add(sock uint64, ev *event.Event, out *events) {
	k := foldKeyOf(sock, ev)
	f := fs.open[k]
	if f != nil && !f.sameRead(ev.DB) {
		// The same text reading something else: a window of its own.
		fs.close(f, out)
		f = nil
	}
	if f == nil {
		out.add(ev)
		if len(fs.open) >= maxOpenFolds {
			return
		}
		f = &fold{key: k, deadline: ev.Time.Add(fs.window), tables: ev.DB.Tables, resultColumns: ev.DB.ResultColumns}
		fs.open[k] = f
		fs.queue = append(fs.queue, f)
		fs.bySock[sock] = append(fs.bySock[sock], f)
		return
	}
	if f.ev == nil {
		// The first run after the window's opening one: later runs fold
		// into it.
		f.ev = ev
		fs.holding[f.key.pid]++
		return
	}
	f.merge(ev.DB, ev.Time)
	f.ev.Process = ev.Process
}

// into folds a run of a statement, d at ts by proc on connection sock, into
// the event of its open window when that already holds runs, and says
// whether it did: the caller then makes no event of its own for the run,
// which is most runs of a busy client's statements. proc is copied only
// if it differs from what the event holds.
func (fs *folds) into(sock uint64, d *event.DB, ts time.Time, proc *event.Process) bool {
	f := fs.open[foldKeyFor(sock, proc.PID, d)]
	if f == nil || f.ev == nil || !f.sameRead(d) {
		return false
	}
	f.merge(d, ts)
	if f.ev.Process == nil || *f.ev.Process != *proc {
		p := *proc
		f.ev.Process = &p
	}
	return true
}

// merge adds a run's counts, r at ts, to the window's event; the caller
// sets the run's process.
func (f *fold) merge(r *event.DB, ts time.Time) {
	d := f.ev.DB
	if d.Executions == 0 {
		d.Executions = 1
		d.FirstTime = f.ev.Time
	}
	d.Executions++
	d.Rows += r.Rows
	d.Bytes += r.Bytes
	d.DurationMS += r.DurationMS
	d.Partial = d.Partial || r.Partial
	f.ev.Time = ts
}

// report emits the runs f holds, if any, and keeps its window open.
func (fs *folds) report(f *fold, out *events) {
	if f.ev == nil {
		return
	}
	ev := f.ev
	f.ev = nil
	if fs.holding[f.key.pid]--; fs.holding[f.key.pid] <= 0 {
		delete(fs.holding, f.key.pid)
	}
	out.add(ev)
}

// close reports f's runs and ends its window.
func (fs *folds) close(f *fold, out *events) {
	if f.done {
		return
	}
	f.done = true
	delete(fs.open, f.key)
	sock := f.key.sock
	if rest := slices.DeleteFunc(fs.bySock[sock], func(g *fold) bool { return g == f }); len(rest) > 0 {
		fs.bySock[sock] = rest
	} else {
		delete(fs.bySock, sock)
	}
	fs.report(f, out)
}

// expire ends the windows due by now.
func (fs *folds) expire(now time.Time, out *events) {
	n := 0
	for _, f := range fs.queue {
		if f.deadline.After(now) {
			break
		}
		fs.close(f, out)
		n++
	}
	if n > 0 {
		clear(fs.queue[:n])
		fs.queue = fs.queue[n:]
	}
}

// next is when the earliest open window ends (ok false: none is open).
func (fs *folds) next() (time.Time, bool) {
	for len(fs.queue) > 0 && fs.queue[0].done {
		fs.queue[0] = nil
		fs.queue = fs.queue[1:]
	}
	if len(fs.queue) == 0 {
		return time.Time{}, false
	}
	return fs.queue[0].deadline, true
}

// flushProcess reports the runs held for process pid, before an event of
// its that is not a statement: rules that follow a person from a read to a
// write then see the read first. (Another process of the same person, say
// a browser writing its cache, does not end a fold: a person's reads reach
// rules at most a window after their other programs' events.)
func (fs *folds) flushProcess(pid uint32, out *events) {
	if fs.holding[pid] == 0 {
		return
	}
	for _, f := range fs.open {
		if f.key.pid == pid {
			fs.report(f, out)
		}
	}
}

// flushConn ends the windows of a connection that closed.
func (fs *folds) flushConn(sock uint64, out *events) {
	// close edits bySock[sock]: end the windows from a copy.
	for _, f := range slices.Clone(fs.bySock[sock]) {
		fs.close(f, out)
	}
}

// flushAll ends every window (the agent is stopping).
func (fs *folds) flushAll(out *events) {
	for _, f := range fs.queue {
		fs.close(f, out)
	}
	fs.queue = nil
}

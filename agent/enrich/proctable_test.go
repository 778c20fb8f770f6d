package enrich

import (
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/event"
)

// fixture is a host of two processes under testdata/host/proc: psql (pid
// 4242, run as root by login uid 1013 in session 7) and a postgres server
// (4243, uid 106, never logged in).
var fixture = Paths{Proc: "testdata/host/proc", Sys: "testdata/host/sys"}

func newFixtureTable() *Table {
	return NewTable(fixture, NewUsers(), Clock{})
}

// Seeding reads every process of /proc with its login user and session:
// processes older than the agent are attributed too.
func TestSeedReadsProc(t *testing.T) {
	tb := newFixtureTable()
	if err := tb.Seed(); err != nil {
		t.Fatal(err)
	}
	if tb.Len() != 2 {
		t.Fatalf("table holds %d processes, want the fixture's 2", tb.Len())
	}
	psql := tb.Lookup(&sensor.Header{PID: 4242, LoginUID: 1013, SessionID: 7})
	// gopsutil takes boot time as now less the fixture's uptime (3379.67 s);
	// psql started 100 s after boot.
	start := time.Now().Add(-3379670 * time.Millisecond).Add(100 * time.Second)
	if d := psql.StartTime.Sub(start); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("psql started %v, want about %v", psql.StartTime, start)
	}
	if psql.Comm != "psql" || psql.PPID != 4100 || psql.Exe != "/usr/bin/psql" || psql.Cmdline != "psql -h db.internal -c SELECT * FROM customers" ||
		psql.UID != 0 || psql.LoginUID != 1013 || psql.Session != 7 {
		t.Errorf("psql = %+v", psql)
	}
	pg := tb.Lookup(&sensor.Header{PID: 4243, UID: 106, LoginUID: event.NoLoginUID, SessionID: event.NoLoginUID})
	if pg.Comm != "postgres" || pg.UID != 106 || pg.LoginUID != event.NoLoginUID || pg.LoginUser != "" || pg.Exe != "/usr/lib/postgresql/15/bin/postgres" {
		t.Errorf("postgres = %+v", pg)
	}
}

// A process the table has not seen is read from /proc on first lookup; one
// that is gone is described from the record alone.
func TestLookupUnknown(t *testing.T) {
	tb := newFixtureTable()
	p := tb.Lookup(&sensor.Header{PID: 4242, LoginUID: 1013, SessionID: 7, Comm: "psql"})
	if p.Exe != "/usr/bin/psql" || p.PPID != 4100 {
		t.Errorf("looked up %+v, want it read from /proc", p)
	}
	gone := tb.Lookup(&sensor.Header{PID: 9999, UID: 1013, LoginUID: 1013, SessionID: 3, Comm: "curl"})
	if gone.Comm != "curl" || gone.Exe != "" || gone.UID != 1013 || gone.Session != 3 {
		t.Errorf("gone process = %+v, want the record's header alone", gone)
	}
}

// The record's identity wins over what the table remembers: after sudo the
// uid changes, the login uid (the person) stays.
func TestHeaderIsAuthoritative(t *testing.T) {
	tb := newFixtureTable()
	tb.Exec(&sensor.Exec{Header: sensor.Header{PID: 10, UID: 1013, LoginUID: 1013, SessionID: 7}, PPID: 1, Filename: "/usr/bin/bash", Args: []string{"bash"}})
	p := tb.Lookup(&sensor.Header{PID: 10, UID: 0, LoginUID: 1013, SessionID: 7})
	if p.UID != 0 || p.LoginUID != 1013 || p.Exe != "/usr/bin/bash" {
		t.Errorf("after sudo: %+v", p)
	}
}

// A fork copies its parent until it execs; an exec replaces the program and
// marks a cut argument list.
func TestForkAndExec(t *testing.T) {
	tb := newFixtureTable()
	tb.Exec(&sensor.Exec{Header: sensor.Header{PID: 20, UID: 1013, LoginUID: 1013, SessionID: 7}, PPID: 1, Filename: "/usr/bin/bash",
		Args: []string{"bash"}, TTY: "pts/3"})
	tb.Fork(&sensor.Fork{Header: sensor.Header{PID: 21, UID: 1013, LoginUID: 1013, SessionID: 7, Comm: "bash"}, PPID: 20})
	child := tb.Lookup(&sensor.Header{PID: 21, UID: 1013, LoginUID: 1013, SessionID: 7})
	if child.Exe != "/usr/bin/bash" || child.PPID != 20 || child.TTY != "pts/3" {
		t.Errorf("forked child = %+v, want its parent's program", child)
	}
	p := tb.Exec(&sensor.Exec{Header: sensor.Header{PID: 21, UID: 1013, LoginUID: 1013, SessionID: 7}, PPID: 20, Filename: "/usr/bin/pg_dump",
		Args: []string{"pg_dump", "shop"}, ArgsTruncated: true})
	if p.Exe != "/usr/bin/pg_dump" || p.Cmdline != "pg_dump shop ..." {
		t.Errorf("exec = %+v", p)
	}
}

// An exited process stays for records still in flight, then goes.
func TestExitKeepsForAWhile(t *testing.T) {
	tb := newFixtureTable()
	now := time.Unix(1000, 0)
	tb.now = func() time.Time { return now }
	h := sensor.Header{PID: 30, UID: 1013, LoginUID: 1013}
	tb.Exec(&sensor.Exec{Header: h, Filename: "/usr/bin/curl"})
	if p := tb.Exit(&sensor.Exit{Header: h}); p.Exe != "/usr/bin/curl" {
		t.Fatalf("exit described %+v", p)
	}
	if p := tb.Lookup(&h); p.Exe != "/usr/bin/curl" {
		t.Errorf("a record just after the exit: %+v, want the process still known", p)
	}
	now = now.Add(keepDead + time.Second)
	other := sensor.Header{PID: 31}
	tb.Exec(&sensor.Exec{Header: other, Filename: "/bin/true"})
	tb.Exit(&sensor.Exit{Header: other}) // exits prune the dead
	if tb.Len() != 1 {
		t.Errorf("table holds %d processes %s after the first exit, want 1", tb.Len(), keepDead)
	}
}

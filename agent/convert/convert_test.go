package convert

import (
	"os"
	"testing"

	"github.com/vigilhq/vigil/agent/enrich"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/event"
)

func newConverter() *Converter {
	clock := enrich.NewClock()
	return New(enrich.NewTable(enrich.HostPaths, enrich.NewUsers(), clock), clock, enrich.NewMounts(enrich.HostPaths))
}

// header is a record's header from this test's process, stamped at ts.
func header(ts uint64) sensor.Header {
	pid := uint32(os.Getpid())
	return sensor.Header{PID: pid, TID: pid, UID: 0, LoginUID: event.NoLoginUID, TS: ts, Comm: "convert.test"}
}

// A fork makes no event but teaches the table its child; the exec and exit
// that follow describe the child, with the wait status split into code and
// signal.
func TestProcessRecords(t *testing.T) {
	c := newConverter()
	parent := header(1000)
	child := parent
	child.PID, child.TID, child.TS = 4000001, 4000001, 2000
	if ev := c.Record(&sensor.Fork{Header: child, PPID: parent.PID}); ev != nil {
		t.Fatalf("fork made an event: %+v", ev)
	}
	ex := c.Record(&sensor.Exec{Header: child, PPID: parent.PID, Filename: "/usr/bin/psql", Args: []string{"psql", "-h", "db"}})
	if ex == nil || ex.Kind != event.KindProcessExec || ex.Process.PID != child.PID || ex.Process.PPID != parent.PID ||
		ex.Process.Exe != "/usr/bin/psql" || ex.Process.Cmdline != "psql -h db" || ex.Time != c.clock.Time(2000) {
		t.Fatalf("exec event %+v", ex)
	}
	for _, tc := range []struct {
		status       int32
		code, signal int32
	}{{0, 0, 0}, {3 << 8, 3, 0}, {9, 0, 9}} {
		child.TS += 1000
		ev := c.Record(&sensor.Exit{Header: child, PPID: parent.PID, ExitCode: tc.status})
		if ev.Kind != event.KindProcessExit || ev.Process.Exe != "/usr/bin/psql" || ev.Exit.Code != tc.code || ev.Exit.Signal != tc.signal {
			t.Errorf("exit status %#x: %+v %+v, want code %d signal %d of psql", tc.status, ev.Process, ev.Exit, tc.code, tc.signal)
		}
	}
}

// Records of other sensors make no event here.
func TestRecordIgnoresOtherKinds(t *testing.T) {
	if ev := newConverter().Record(&sensor.DNS{}); ev != nil {
		t.Errorf("a DNS record made %+v", ev)
	}
}

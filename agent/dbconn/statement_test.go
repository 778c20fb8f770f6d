package dbconn

import (
	"os"
	"testing"

	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
	"github.com/vigilhq/vigil/event"
)

// A connection that went TLS with no probe reading its plaintext is
// reported as a db.session marked encrypted when it closes, and its
// process is searched for a libssl of its own, once.
func TestUnobservedTLSReportedAtClose(t *testing.T) {
	var checked []uint32
	c := newConns(t, Options{LibSSLCheck: func(pid uint32) { checked = append(checked, pid) }})
	sslRequest := dbwiretest.Capture{FromClient: true, Data: []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}}
	accepted := dbwiretest.Capture{FromClient: false, Data: []byte{'S'}}
	handshake := dbwiretest.Capture{FromClient: true, Data: []byte{0x16, 0x03, 0x01, 0x00, 0x05, 1, 0, 0, 1, 0}}
	if evs := feed(c, records(t, 3, false, sslRequest, accepted, handshake, handshake)); len(evs) != 0 {
		t.Fatalf("%d events before close, want none", len(evs))
	}
	if len(checked) != 1 || checked[0] != uint32(os.Getpid()) {
		t.Errorf("libssl check calls %v, want one for pid %d", checked, os.Getpid())
	}
	evs := c.Close(closeRec(t, 3))
	if len(evs) != 1 || evs[0].Kind != event.KindDBSession || !evs[0].DB.Encrypted || !evs[0].DB.TLS || evs[0].DB.Side != "client" {
		t.Fatalf("at close %d events, first %+v; want one encrypted db.session", len(evs), evs)
	}
}

// A statement's event holds copies: the tracker and the caller reuse
// theirs.
func TestStatementEventCopies(t *testing.T) {
	in := run("alice", "SELECT 1", 0, 1)
	ev := statementEvent(in.DB, in.Time, in.Process)
	in.DB.Rows, in.Process.PID = 99, 1
	if ev.DB == in.DB || ev.Process == in.Process || ev.DB.Rows != 1 || ev.Process.PID != 100 {
		t.Errorf("event shares or follows the caller's values: %+v %+v", ev.DB, ev.Process)
	}
	if ev.Kind != event.KindDBQuery || !ev.Time.Equal(foldT0) {
		t.Errorf("event kind %s at %v", ev.Kind, ev.Time)
	}
}

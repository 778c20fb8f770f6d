package dbconn

import (
	"fmt"
	"math/rand"
	"os"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/dbwire"
	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/event"
)

// A connection its tracker gives up on is not dropped silently: it is
// reported once, as a db.session saying why, and counted.
func TestGiveUpIsReported(t *testing.T) {
	c := newConns(t, Options{})
	rng := rand.New(rand.NewSource(1))
	junk := make([]byte, 16384)
	pid := uint32(os.Getpid())
	now := boottime(t)
	var evs []*event.Event
	// 32 MiB on the PostgreSQL port in which no message boundary can be
	// found (bytes of a protocol the tracker does not know).
	for i := range 2048 {
		for j := range junk {
			junk[j] = byte(rng.Intn(256)) | 0x80
		}
		evs = append(evs, c.Data(&db.Data{
			Header: sensor.Header{Type: db.RecData, PID: pid, TID: pid, TS: now + uint64(i+1)*1000, Comm: "client"},
			Conn:   db.Conn{Sock: 9, Local: clientAddr, Remote: serverAddr}, Len: len(junk), Data: junk, Sent: i%2 == 0,
		})...)
	}
	if len(evs) != 1 || evs[0].Kind != event.KindDBSession || evs[0].DB.Reason != dbwire.ReasonLost ||
		evs[0].DB.State != "start" || evs[0].DB.Server != serverAddr.String() || evs[0].Process.PID != pid {
		t.Fatalf("%d events, first %+v; want one db.session starting, with reason %q", len(evs), evs, dbwire.ReasonLost)
	}
	if got := c.GaveUp(); got[dbwire.ReasonLost] != 1 || len(got) != 1 {
		t.Errorf("give-ups counted %v, want one %q", got, dbwire.ReasonLost)
	}
	end := c.Close(closeRec(t, 9))
	if len(end) != 1 || end[0].DB.State != "end" || end[0].DB.BytesToServer+end[0].DB.BytesToClient != 2048*16384 {
		t.Errorf("close reported %+v; want the session's end with its 32 MiB", end)
	}
	if got := c.GaveUp(); got[dbwire.ReasonLost] != 1 {
		t.Errorf("give-ups counted %v after close, want still one", got)
	}
}

// A connection gone TLS that no probe reads is reported when its client
// sends application data the probes did not show, again while it moves
// bytes, and at its end, with the bytes each way and its age.
func TestUnreadableTLSReportedWhileOpen(t *testing.T) {
	c := newConns(t, Options{SessionEvery: time.Minute})
	pid := uint32(os.Getpid())
	start := boottime(t)
	var evs []*event.Event
	rec := func(at time.Duration, fromClient bool, data []byte) {
		evs = append(evs, c.Data(&db.Data{
			Header: sensor.Header{Type: db.RecData, PID: pid, TID: pid, TS: start + uint64(at), Comm: "gotlsclient"},
			Conn:   db.Conn{Sock: 5, Local: clientAddr, Remote: serverAddr}, Len: len(data), Data: data, Sent: fromClient,
		})...)
	}
	tlsRec := func(typ byte, n int) []byte {
		return append([]byte{typ, 3, 3, byte(n >> 8), byte(n)}, make([]byte, n)...)
	}
	rec(0, true, []byte("\x00\x00\x00\x08\x04\xd2\x16\x2f")) // SSLRequest
	rec(time.Millisecond, false, []byte("S"))
	rec(2*time.Millisecond, true, tlsRec(0x16, 300))                            // ClientHello
	rec(3*time.Millisecond, false, tlsRec(0x16, 2000))                          // server flight
	rec(4*time.Millisecond, true, append(tlsRec(0x14, 1), tlsRec(0x17, 60)...)) // TLS 1.3 CCS and Finished
	if len(evs) != 0 {
		t.Fatalf("reported during the handshake: %+v", evs[0].DB)
	}
	rec(5*time.Millisecond, true, tlsRec(0x17, 100)) // the startup, encrypted
	if len(evs) != 1 || evs[0].DB.State != "start" || !evs[0].DB.Encrypted || evs[0].DB.Reason != dbwire.ReasonTLS {
		t.Fatalf("after application data: %d events, want a db.session starting, encrypted (tls)", len(evs))
	}
	rec(30*time.Second, false, tlsRec(0x17, 5000))
	if len(evs) != 1 {
		t.Fatalf("reported again within a minute: %+v", evs[len(evs)-1].DB)
	}
	rec(61*time.Second, true, tlsRec(0x17, 100))
	if len(evs) != 2 || evs[1].DB.State != "interim" || evs[1].DB.DurationMS < 61000 {
		t.Fatalf("%d events after a minute, want an interim report of a connection 61 s old", len(evs))
	}
	evs = append(evs, c.Close(&db.Close{Header: sensor.Header{TS: start + uint64(62*time.Second)}, Conn: db.Conn{Sock: 5}})...)
	end := evs[len(evs)-1].DB
	if len(evs) != 3 || end.State != "end" || end.BytesToServer != 8+305+6+65+105+105 || end.BytesToClient != 1+2005+5005 {
		t.Errorf("end = %+v, want the bytes each way", end)
	}
}

// A client that prepares more named statements than a tracker keeps (an ORM
// that names every query) has the oldest forgotten: they are counted, while
// the connection is open and after it closes, for the agent to report.
func TestEvictionsCounted(t *testing.T) {
	c := newConns(t, Options{})
	caps := captures(dbwiretest.PgStartup("alice", "shop"))
	const prepared = dbwire.DefaultMaxPending + 10
	for i := range prepared {
		body := append([]byte(fmt.Sprintf("s%d\x00SELECT email FROM customers WHERE id = $1\x00", i)), 0, 0)
		caps = append(caps, dbwiretest.Capture{FromClient: true, Data: dbwiretest.PgMessage('P', body)})
	}
	feed(c, records(t, 3, false, caps...))
	if n := c.Evicted(); n != 10 {
		t.Errorf("open connection: %d evictions counted, want 10", n)
	}
	c.Close(closeRec(t, 3))
	if n := c.Evicted(); n != 10 {
		t.Errorf("closed connection: %d evictions counted, want still 10", n)
	}
}

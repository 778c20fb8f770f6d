package agent_test

import (
	"fmt"
	"io"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/agent/dbconn"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/event"
)

// A connection to a database port that starts like PostgreSQL and then
// carries bytes no parser can place (a tunnel through the database port,
// say) is not dropped without a word: it is a db.session saying why, and
// an agent.loss counts it.
func TestUnparsableConnectionReported(t *testing.T) {
	// The listener is this test's, which the agent ignores: the client,
	// a shell of its own, is the end it reads.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	red, err := redact.New(redact.Config{Key: []byte("test-deployment-key")})
	if err != nil {
		t.Fatal(err)
	}
	sink := make(chanSink, 1<<16)
	ports := []uint16{uint16(port)}
	dbs := db.New(db.Config{Ports: ports})
	startAgent(t, agent.Options{
		Sensors:   []sensor.Sensor{dbs},
		Sink:      sink,
		DB:        dbconn.Options{Ports: ports, Redactor: red, Mute: dbs.Mute},
		LossEvery: 50 * time.Millisecond,
	})
	// A startup for alice, then 20 MiB of 0xff bytes: no message type.
	script := fmt.Sprintf(`exec 3<>/dev/tcp/127.0.0.1/%d && printf '\0\0\0\024\0\3\0\0user\0alice\0\0' >&3 && `+
		`head -c 20971520 /dev/zero | tr '\0' '\377' >&3`, port)
	if out, err := exec.Command("/bin/bash", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("bash: %v: %s", err, out)
	}
	var session, loss *event.Event
	await(t, sink, "the db.session of the unparsable connection and its agent.loss", func(ev *event.Event) bool {
		switch {
		case ev.Kind == event.KindDBSession && ev.DB.Side == "client" && session == nil:
			session = ev // the first: the connection is reported when given up, not only at its close
		case ev.Kind == event.KindAgentLoss && ev.Loss.Sensor == "db" && ev.Loss.Reason == "parser_gave_up_lost":
			loss = ev
		}
		return session != nil && loss != nil
	})
	// tr wrote the bytes given up on.
	if session.DB.Reason != "lost" || session.DB.User != "alice" || session.DB.State != "start" || session.Process.Comm != "tr" {
		t.Errorf("db.session = %+v by %+v, want alice's connection given up (lost), by tr", session.DB, session.Process)
	}
	if loss.Loss.Count != 1 {
		t.Errorf("agent.loss counts %d connections, want 1", loss.Loss.Count)
	}
}

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
	// A startup for alice, then 0xff bytes (no message type) until the agent
	// has reported the connection: not an amount sized to the tracker's
	// give-up point, which a kernel ring drop under load would push out of
	// reach.
	script := fmt.Sprintf(`exec 3<>/dev/tcp/127.0.0.1/%d && printf '\0\0\0\024\0\3\0\0user\0alice\0\0' >&3 && `+
		`exec tr '\0' '\377' </dev/zero >&3`, port)
	writer := exec.Command("/bin/bash", "-c", script)
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- writer.Wait() }()
	t.Cleanup(func() { _ = writer.Process.Kill(); <-done })
	var session, loss *event.Event
	deadline := time.After(60 * time.Second)
	for session == nil || loss == nil {
		select {
		case ev := <-sink:
			switch {
			case ev.Kind == event.KindDBSession && ev.DB.Side == "client" && session == nil:
				session = ev // the first: the connection is reported when given up, not only at its close
			case ev.Kind == event.KindAgentLoss && ev.Loss.Sensor == "db" && ev.Loss.Reason == "parser_gave_up_lost":
				loss = ev
			}
		case err := <-done:
			t.Fatalf("the writer stopped before the agent reported its connection (session %v, loss %v): %v",
				session != nil, loss != nil, err)
		case <-deadline:
			t.Fatalf("within 60 s of writing: db.session of the unparsable connection seen %v, its agent.loss seen %v",
				session != nil, loss != nil)
		}
	}
	// tr wrote the bytes given up on.
	if session.DB.Reason != "lost" || session.DB.User != "alice" || session.DB.State != "start" || session.Process.Comm != "tr" {
		t.Errorf("db.session = %+v by %+v, want alice's connection given up (lost), by tr", session.DB, session.Process)
	}
	if loss.Loss.Count != 1 {
		t.Errorf("agent.loss counts %d connections, want 1", loss.Loss.Count)
	}
}

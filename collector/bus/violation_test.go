package bus

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigilhq/vigil/collector/enrol"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testproc"
)

// An enrolled agent's key that publishes on another agent's subject,
// subscribes to everything or calls the JetStream API is refused by the
// embedded server, and each refusal is reported naming the agent; its own
// subjects are not. A client name made to look like another key's
// violation does not fool the reader.
func TestViolationsNameTheAgent(t *testing.T) {
	dir := t.TempDir()
	agents := filepath.Join(dir, "agents")
	a1, creds1, err := enrol.Enrol(agents, "leeds", "ws1", "ag-1")
	if err != nil {
		t.Fatal(err)
	}
	a2, _, err := enrol.Enrol(agents, "leeds", "ws2", "ag-2")
	if err != nil {
		t.Fatal(err)
	}
	credsPath := filepath.Join(dir, "ag-1.nk")
	os.WriteFile(credsPath, creds1, 0o600)

	var mu sync.Mutex
	var got []Violation
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := Start(ctx, Config{DataDir: dir, Listen: "127.0.0.1:-1", Auth: true, AgentsDir: agents,
		Violations: func(v Violation) { mu.Lock(); got = append(got, v); mu.Unlock() }},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	key, err := nats.NkeyOptionFromSeed(credsPath)
	if err != nil {
		t.Fatal(err)
	}
	fake := `x" - "$G/nkey:` + a2.PublicKey + `" - Publish Violation - Subject "decoy`
	nc, err := nats.Connect(b.ClientURL(), key, nats.Name(fake), nats.CustomInboxPrefix("_INBOX.ag-1"),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	own := event.Subject("leeds", "ag-1", event.ClassEvents)
	other := event.Subject("leeds", "ag-2", event.ClassEvents)
	nc.Publish(own, []byte("{}"))
	nc.Publish(other, []byte("{}"))
	nc.Subscribe(">", func(*nats.Msg) {})
	ownMarks, err := nc.SubscribeSync(event.CommittedSubject("ag-1"))
	if err != nil {
		t.Fatal(err)
	}
	nc.Subscribe(event.CommittedSubject("ag-2"), func(*nats.Msg) {})
	nc.Request("$JS.API.STREAM.DELETE."+Stream, nil, 200*time.Millisecond)
	nc.Flush()

	want := []Violation{
		{Key: a1.PublicKey, AgentID: "ag-1", Site: "leeds", Op: "publish", Subject: other},
		{Key: a1.PublicKey, AgentID: "ag-1", Site: "leeds", Op: "subscribe", Subject: ">"},
		{Key: a1.PublicKey, AgentID: "ag-1", Site: "leeds", Op: "subscribe", Subject: event.CommittedSubject("ag-2")},
		{Key: a1.PublicKey, AgentID: "ag-1", Site: "leeds", Op: "jetstream", Subject: "$JS.API.STREAM.DELETE." + Stream},
	}
	testproc.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		for _, w := range want {
			if !slices.Contains(got, w) {
				return fmt.Errorf("no report of %s %s yet, got %+v", w.Op, w.Subject, got)
			}
		}
		return nil
	})
	// The collector's watermarks reach the agent they are for.
	if err := b.NC.Publish(event.CommittedSubject("ag-1"), []byte(`{"b":1}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := ownMarks.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("ag-1 did not get its watermark: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, v := range got {
		if v.Subject == own || v.Subject == event.CommittedSubject("ag-1") || v.AgentID != "ag-1" || strings.Contains(v.Subject, "decoy") {
			t.Errorf("reported %+v: its own subject, another agent or the decoy", v)
		}
	}
}

func TestParseViolation(t *testing.T) {
	for _, c := range []struct {
		line string
		want Violation
		ok   bool
	}{
		{`127.0.0.1:5000 - cid:7 - "v1.55.0:go:vigil-agent" - "$G/nkey:UAAA" - Publish Violation - Subject "vigil.leeds.ag-2.events"`,
			Violation{Key: "UAAA", Op: "publish", Subject: "vigil.leeds.ag-2.events"}, true},
		{`127.0.0.1:5000 - cid:7 - "v1.55.0:go" - "$G/nkey:UAAA" - Subscription Violation - Subject ">", SID 3`,
			Violation{Key: "UAAA", Op: "subscribe", Subject: ">"}, true},
		{`127.0.0.1:5000 - cid:7 - "v1.55.0:go" - "$G/nkey:UAAA" - Publish Violation - Subject "$JS.API.INFO"`,
			Violation{Key: "UAAA", Op: "jetstream", Subject: "$JS.API.INFO"}, true},
		{`127.0.0.1:5000 - cid:7 - "$G/nkey:UAAA" - Publish Violation - Reply "_INBOX.x"`,
			Violation{Key: "UAAA", Op: "reply", Subject: "_INBOX.x"}, true},
		// The name claims another key and a subject; the real ones follow.
		{`127.0.0.1:5000 - cid:7 - "v1:go:x\" - \"$G/nkey:UBBB\" - Publish Violation - Subject \"decoy" - "$G/nkey:UAAA" - Subscription Violation - Subject "a.>", SID 1`,
			Violation{Key: "UAAA", Op: "subscribe", Subject: "a.>"}, true},
		{`127.0.0.1:5000 - cid:7 - "v1:go" - "$G/nkey:UAAA" - Slow Consumer Detected`, Violation{}, false},
		{`Starting nats-server`, Violation{}, false},
		{`127.0.0.1:5000 - cid:7 - "unterminated - Publish Violation - Subject "x"`, Violation{}, false},
	} {
		got, ok := parseViolation(c.line)
		if ok != c.ok || got != c.want {
			t.Errorf("parseViolation(%s) = %+v, %v; want %+v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}

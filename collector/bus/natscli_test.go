package bus

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/enrol"
	"github.com/vigilhq/vigil/event"
)

var (
	natsCLIOnce sync.Once
	natsCLI     string
	natsCLIErr  error
)

// natsCLIBinary builds the nats CLI at the version tools/natscli pins.
func natsCLIBinary(t *testing.T) string {
	t.Helper()
	natsCLIOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-natscli-")
		if err != nil {
			natsCLIErr = err
			return
		}
		natsCLI = filepath.Join(dir, "nats")
		cmd := exec.Command("go", "build", "-o", natsCLI, "github.com/nats-io/natscli/nats")
		cmd.Dir = "../../tools/natscli"
		if out, err := cmd.CombinedOutput(); err != nil {
			natsCLIErr = err
			natsCLI = string(out)
		}
	})
	if natsCLIErr != nil {
		t.Fatalf("building the nats CLI: %v\n%s", natsCLIErr, natsCLI)
	}
	return natsCLI
}

// The key vigil enrol writes is a standard NKey seed file: the nats CLI,
// given nothing else, publishes with it into JetStream on the agent's own
// subjects, and the server refuses it another agent's.
func TestNATSCLIPublishesWithTheEnrolledKey(t *testing.T) {
	nats := natsCLIBinary(t)
	data := t.TempDir()
	agents := filepath.Join(data, "agents")
	a, key, err := enrol.Enrol(agents, "leeds", "ws-1", "ag-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := enrol.Enrol(agents, "leeds", "ws-2", "ag-2"); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "ws-1.nk")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := Start(ctx, Config{DataDir: data, Listen: "127.0.0.1:-1", Auth: true, AgentsDir: agents},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	pub := func(subject string) (string, error) {
		return natsPub(ctx, t, nats, b.ClientURL(), keyFile, a.AgentID, subject)
	}
	own := "vigil.leeds.ag-1." + event.ClassHeartbeat
	if out, err := pub(own); err != nil {
		t.Fatalf("nats pub with the enrolled key to %s: %v\n%s", own, err, out)
	}
	info, err := b.stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("the stream holds %d messages, want the one nats pub sent", info.State.Msgs)
	}
	other := "vigil.leeds.ag-2." + event.ClassHeartbeat
	if out, err := pub(other); err == nil {
		t.Errorf("nats pub with ag-1's key to %s was accepted:\n%s", other, out)
	}
	if info, _ := b.stream.Info(ctx); info.State.Msgs != 1 {
		t.Errorf("the stream holds %d messages after the refused publish, want 1", info.State.Msgs)
	}
}

// natsPub publishes a heartbeat to subject through JetStream with the nats
// CLI, as the agent agentID with the NKey seed file keyFile would.
func natsPub(ctx context.Context, t *testing.T, nats, url, keyFile, agentID, subject string) (string, error) {
	cmd := exec.CommandContext(ctx, nats, "--server", url, "--nkey", keyFile,
		"--inbox-prefix", "_INBOX."+agentID, "--timeout", "3s",
		"pub", "--jetstream", subject, `{"kind":"heartbeat"}`)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no nats context of this machine's
	out, err := cmd.CombinedOutput()
	return string(out), err
}

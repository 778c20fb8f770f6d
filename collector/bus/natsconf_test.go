package bus

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/vigilhq/vigil/collector/enrol"
	"github.com/vigilhq/vigil/event"
)

// startConfigured runs a nats-server from a configuration file that
// includes the generated authorization, as an operator's cluster node does.
func startConfigured(t *testing.T, authorization []byte) *server.Server {
	t.Helper()
	main := fmt.Sprintf("listen: 127.0.0.1:-1\njetstream { store_dir: %q }\ninclude ./vigil-agents.conf\n", t.TempDir())
	srv, _ := startFromFiles(t, main, map[string][]byte{"vigil-agents.conf": authorization})
	return srv
}

// A NATS server configured with what AuthorizationConfig writes holds each
// agent to its own subjects as the embedded server does: the collector
// connects with its key and makes its stream, an agent's key publishes to
// its own subjects and is refused on another agent's, and a key never
// enrolled cannot connect.
func TestGeneratedAuthorizationHoldsAgentsToTheirSubjects(t *testing.T) {
	natsBin := natsCLIBinary(t)
	data := t.TempDir()
	agents := filepath.Join(data, "agents")
	a, key, err := enrol.Enrol(agents, "leeds", "ws-1", "ag-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := enrol.Enrol(agents, "leeds", "ws-2", "ag-2"); err != nil {
		t.Fatal(err)
	}
	unknown, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	unknownSeed, _ := unknown.Seed()
	recs, errs := enrol.Load(agents)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	collectorPub, err := CollectorKey(data)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := CollectorKey(data); err != nil || again != collectorPub {
		t.Fatalf("the collector's key changed on a second read: %s, %v", again, err)
	}
	if info, err := os.Stat(filepath.Join(data, CollectorKeyFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("collector key file: %v, %v; want mode 0600", info, err)
	}
	conf, err := CoreConfig(collectorPub, nil, recs)
	if err != nil {
		t.Fatal(err)
	}
	srv := startConfigured(t, conf)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := Start(ctx, Config{URL: srv.ClientURL(), Creds: filepath.Join(data, CollectorKeyFile)},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("the collector with its key on the configured server: %v", err)
	}
	defer b.Close()

	pub := func(keyData []byte, inbox, subject string) (string, error) {
		keyFile := filepath.Join(t.TempDir(), "agent.nk")
		if err := os.WriteFile(keyFile, keyData, 0o600); err != nil {
			t.Fatal(err)
		}
		return natsPub(ctx, t, natsBin, srv.ClientURL(), keyFile, inbox, subject)
	}
	own := "vigil.leeds.ag-1." + event.ClassHeartbeat
	if out, err := pub(key, a.AgentID, own); err != nil {
		t.Fatalf("nats pub with ag-1's key to %s: %v\n%s", own, err, out)
	}
	other := "vigil.leeds.ag-2." + event.ClassHeartbeat
	if out, err := pub(key, a.AgentID, other); err == nil {
		t.Errorf("nats pub with ag-1's key to %s was accepted:\n%s", other, out)
	}
	if out, err := pub(unknownSeed, "ag-3", "vigil.leeds.ag-3."+event.ClassHeartbeat); err == nil ||
		!strings.Contains(strings.ToLower(out), "authorization") {
		t.Errorf("a key never enrolled: %v\n%s", err, out)
	}
	info, err := b.stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("the stream holds %d messages, want ag-1's one", info.State.Msgs)
	}
}

// A record whose key is not an NKey user key stops the configuration
// rather than being written into it.
func TestAuthorizationConfigRefusesBadKeys(t *testing.T) {
	pub, err := CollectorKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CoreConfig("nope", nil, nil); err == nil {
		t.Error("a bad collector key was accepted")
	}
	bad := []enrol.Agent{{AgentID: "ag-1", Site: "leeds", Host: "ws", PublicKey: `U" } ] } authorization { users = [ {nkey: "U`}}
	if _, err := CoreConfig(pub, nil, bad); err == nil || !strings.Contains(err.Error(), "ag-1") {
		t.Errorf("a bad agent key: %v, want an error naming ag-1", err)
	}
	if _, err := CoreConfig(pub, map[string]string{"leeds": "nope"}, nil); err == nil || !strings.Contains(err.Error(), "leeds") {
		t.Errorf("a bad leaf key: %v, want an error naming the site", err)
	}
}

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
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/vigilhq/vigil/collector/enrol"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testproc"
)

// startFromFiles runs a nats-server from main, written beside the files
// (name -> content) it includes, as an operator's server does, and returns
// it and that directory.
func startFromFiles(t *testing.T, main string, files map[string][]byte) (*server.Server, string) {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "server.conf")
	if err := os.WriteFile(conf, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatalf("nats-server refuses the configuration: %v\n%s", err, main)
	}
	opts.NoSigs = true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(srv.Shutdown)
	return srv, dir
}

// A core node with the core block and a leaf node with its site's file:
// the leaf signs in with its own key, and its agents' events reach the
// stream through it. A leaf node that uses the site's key but lets anyone
// in cannot publish for another site's agent, nor receive what the
// collector fetches from the stream.
func TestLeafNodeKeyHoldsTheLeafToItsSite(t *testing.T) {
	data := t.TempDir()
	agents := filepath.Join(data, "agents")
	a1, key1, err := enrol.Enrol(agents, "leeds", "ws-1", "ag-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := enrol.Enrol(agents, "manila", "ws-3", "ag-3"); err != nil {
		t.Fatal(err)
	}
	recs, errs := enrol.Load(agents)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	collectorPub, err := CollectorKey(data)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := LeafKey(data, "leeds")
	if err != nil {
		t.Fatal(err)
	}
	leafPub, _ := leaf.PublicKey()
	core, err := CoreConfig(collectorPub, map[string]string{"leeds": leafPub}, recs)
	if err != nil {
		t.Fatal(err)
	}
	leafConf, err := LeafConfig("leeds", leaf, recs)
	if err != nil {
		t.Fatal(err)
	}
	leafPort := testproc.FreePort(t)
	hub, _ := startFromFiles(t, fmt.Sprintf("listen: 127.0.0.1:-1\njetstream { store_dir: %q }\n"+
		"leafnodes { listen: 127.0.0.1:%d }\ninclude ./vigil-core.conf\n", t.TempDir(), leafPort),
		map[string][]byte{"vigil-core.conf": core})
	remote := fmt.Sprintf(`"nats://127.0.0.1:%d"`, leafPort)
	site, _ := startFromFiles(t, "listen: 127.0.0.1:-1\ninclude ./vigil-leaf.conf\n"+
		"leafnodes { remotes = [ { urls: ["+remote+"], nkey: $"+LeafNKeyVariable+" } ] }\n",
		map[string][]byte{"vigil-leaf.conf": leafConf})
	seed, _ := leaf.Seed()
	open, _ := startFromFiles(t, fmt.Sprintf("listen: 127.0.0.1:-1\nleafnodes { remotes = [ { urls: [%s], nkey: %q } ] }\n", remote, seed), nil)
	testproc.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		if n := hub.NumLeafNodes(); n != 2 {
			return fmt.Errorf("the core node has %d leaf nodes, want 2", n)
		}
		return nil
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := Start(ctx, Config{URL: hub.ClientURL(), Creds: filepath.Join(data, CollectorKeyFile)},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("the collector with its key on the core node: %v", err)
	}
	defer b.Close()

	publish := func(nc *nats.Conn, subject string) error {
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err = js.Publish(pctx, subject, []byte(`{"kind":"heartbeat"}`))
		return err
	}
	fc, err := nats.Connect(open.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	if err := publish(fc, event.Subject("manila", "ag-3", event.ClassHeartbeat)); err == nil {
		t.Error("a client of the open leaf node published on manila's ag-3's subjects")
	}
	fc.Close()

	// Everything the open leaf node receives from now on.
	oc, err := nats.Connect(open.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close()
	heard, err := oc.SubscribeSync(">")
	if err != nil {
		t.Fatal(err)
	}
	// Its interest has reached the core once what ag-1 may receive does.
	probe := "_INBOX.ag-1.probe"
	testproc.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		if err := b.NC.Publish(probe, nil); err != nil {
			return err
		}
		if _, err := heard.NextMsg(50 * time.Millisecond); err != nil {
			return fmt.Errorf("nothing on %s reached the open leaf node: %w", probe, err)
		}
		return nil
	})

	kp, err := nkeys.ParseDecoratedNKey(key1)
	if err != nil {
		t.Fatal(err)
	}
	pub1, _ := kp.PublicKey()
	ac, err := nats.Connect(site.ClientURL(), nats.Nkey(pub1, kp.Sign), nats.CustomInboxPrefix("_INBOX."+a1.AgentID))
	if err != nil {
		t.Fatalf("ag-1 at its site's leaf node: %v", err)
	}
	defer ac.Close()
	own := event.Subject("leeds", "ag-1", event.ClassHeartbeat)
	testproc.CheckFor(t, 10*time.Second, 100*time.Millisecond, func() error { return publish(ac, own) })
	if err := publish(ac, event.Subject("manila", "ag-3", event.ClassHeartbeat)); err == nil {
		t.Error("ag-1 published on ag-3's subjects through its leaf node")
	}
	// The collector fetches what is stored: none of it reaches the open
	// leaf node, though it listens to everything.
	cons, err := b.Consumer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(10, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range batch.Messages() {
		n++
		m.Ack()
	}
	if n != 1 {
		t.Errorf("the collector fetched %d messages, want ag-1's one", n)
	}
	if err := oc.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := heard.NextMsg(100 * time.Millisecond)
		if err != nil {
			break
		}
		if !strings.HasPrefix(m.Subject, "_INBOX.ag-1.") {
			t.Errorf("the open leaf node received %s, beyond its site's agents' subjects", m.Subject)
		}
	}
}

package rulesync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigilhq/vigil/agent/publish"
	"github.com/vigilhq/vigil/collector"
	"github.com/vigilhq/vigil/collector/bundles"
	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/enrol"
	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testproc"
	"github.com/vigilhq/vigil/rules/bundle"
)

// lines is an io.Writer of the collector's alert lines, safe to read while
// the collector writes.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// agentSource is the heartbeat of an agent that runs bundles only.
type agentSource struct{ s *Syncer }

func (a agentSource) BootID() string { return "boot-1" }

func (a agentSource) Emit(*event.Event) {} // no loss in this test: nothing to number

func (a agentSource) Heartbeat(interval time.Duration) *event.Heartbeat {
	hb := &event.Heartbeat{IntervalS: uint32(max(interval/time.Second, 1)), Sensors: []string{}, RulesMode: "bundle"}
	hb.BundleVersion, hb.BundleRefused = a.s.Status()
	return hb
}

// The whole path: vigil rules publish's bundle reaches the agent through
// the real collector over the agent's restricted connection, and the
// agent's heartbeats say so. A bundle altered in the collector's data
// directory (the signature no longer covers it) is served, refused by the
// agent, which keeps running the good one, and the collector raises a
// refusal alert, then, past the grace, a not-current one.
func TestCollectorAlertsOnRefusedAndStaleBundles(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	data := t.TempDir()
	agents := filepath.Join(data, "agents")
	_, credsFile, err := enrol.Enrol(agents, "lisbon", "ws-1", "ag-1")
	if err != nil {
		t.Fatal(err)
	}
	credsPath := filepath.Join(t.TempDir(), "agent.nk")
	if err := os.WriteFile(credsPath, credsFile, 0o600); err != nil {
		t.Fatal(err)
	}
	alerts := &lines{}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	cctx, stopCollector := context.WithCancel(ctx)
	go func() {
		done <- collector.Run(cctx, collector.Config{DataDir: data, NATS: bus.Config{Listen: "127.0.0.1:-1", Auth: true},
			AlertsOut: alerts, BundleGrace: 2 * time.Second, Logger: quiet,
			Ready: func(natsURL, _ string) { ready <- natsURL }})
	}()
	t.Cleanup(func() { stopCollector(); <-done })
	var url string
	select {
	case url = <-ready:
	case err := <-done:
		t.Fatalf("collector stopped: %v", err)
	case <-ctx.Done():
		t.Fatal("collector not ready")
	}

	creds, diags := publish.LoadCreds(credsPath)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if err := creds.Bind("lisbon", "ag-1"); err != nil {
		t.Fatal(err)
	}
	key, err := bundle.ParsePublicKey(creds.RulesKey)
	if err != nil {
		t.Fatal(err)
	}
	ap := &applied{}
	s := New(Options{Site: "lisbon", Key: key, StateDir: t.TempDir(), Apply: ap.apply, Poll: time.Hour, Logger: quiet})
	pcfg := &publish.Config{URL: url, Identity: creds, SpoolDir: t.TempDir(), SpoolMaxMiB: 16, MaxInFlight: 64,
		HeartbeatEvery: 200 * time.Millisecond}
	auth, err := pcfg.AuthOptions()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, append(auth, nats.CustomInboxPrefix(publish.InboxPrefix("ag-1")))...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	go s.Run(ctx, nc)
	pub, err := publish.New(pcfg, publish.Options{Site: "lisbon", Host: "ws-1", AgentID: "ag-1", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.Start(agentSource{s})

	good, err := bundles.Publish(data, "lisbon", ruleSet(t, "good"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	waitRunning(t, s, ap, fmt.Sprintf("%d:good", good.Version))

	// Someone who can write the data directory but has no key raises the
	// version of the served bundle and edits its rules.
	path := filepath.Join(data, bundles.Dir, "site-lisbon.bundle")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var signed bundle.Signed
	if err := json.Unmarshal(raw, &signed); err != nil {
		t.Fatal(err)
	}
	signed.Payload = bytes.Replace(signed.Payload, fmt.Appendf(nil, `"version":%d`, good.Version), []byte(`"version":9`), 1)
	altered, _ := json.Marshal(signed)
	if err := os.WriteFile(path, altered, 0o640); err != nil {
		t.Fatal(err)
	}
	testproc.CheckFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		if !strings.Contains(alerts.String(), liveness.RuleBundleRefused) {
			return fmt.Errorf("no %s alert yet; alerts:\n%s", liveness.RuleBundleRefused, alerts.String())
		}
		return nil
	})
	if got := ap.last(); got != fmt.Sprintf("%d:good", good.Version) {
		t.Fatalf("after the altered bundle the agent runs %q", got)
	}
	testproc.CheckFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		if !strings.Contains(alerts.String(), liveness.RuleBundleStale) {
			return fmt.Errorf("no %s alert yet; alerts:\n%s", liveness.RuleBundleStale, alerts.String())
		}
		return nil
	})
	if strings.Contains(alerts.String(), liveness.RuleRuleSetChanged) {
		t.Errorf("the published bundle raised a rule set change:\n%s", alerts.String())
	}
}

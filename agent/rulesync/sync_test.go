package rulesync

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/agent/publish"
	"github.com/vigilhq/vigil/collector/bundles"
	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/enrol"
	"github.com/vigilhq/vigil/internal/testproc"
	"github.com/vigilhq/vigil/rules"
	"github.com/vigilhq/vigil/rules/bundle"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fleet is a collector (embedded NATS with enrolled keys only, the bundle
// bucket) and one agent enrolled at lisbon, connected with its key.
type fleet struct {
	data  string
	bus   *bus.Bus
	srv   *bundles.Server
	kv    jetstream.KeyValue
	creds *publish.Creds
	agent *nats.Conn
}

func startFleet(t *testing.T, ctx context.Context) *fleet {
	t.Helper()
	data := t.TempDir()
	agents := filepath.Join(data, "agents")
	a, credsFile, err := enrol.Enrol(agents, "lisbon", "ws-1", "ag-1")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "agent.nk")
	if err := os.WriteFile(path, credsFile, 0o600); err != nil {
		t.Fatal(err)
	}
	creds, diags := publish.LoadCreds(path)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if creds.RulesKey == "" || creds.RulesKey != a.RulesKey {
		t.Fatalf("the credentials pin rules key %q, the enrolment record %q", creds.RulesKey, a.RulesKey)
	}
	b, err := bus.Start(ctx, bus.Config{DataDir: data, Listen: "127.0.0.1:-1", Auth: true, AgentsDir: agents}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	srv, err := bundles.Open(ctx, b.JS, data, 1, quiet)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := b.JS.KeyValue(ctx, bundle.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	kp, _ := creds.KeyPair()
	pub, _ := kp.PublicKey()
	nc, err := nats.Connect(b.ClientURL(), nats.Nkey(pub, kp.Sign), nats.CustomInboxPrefix(publish.InboxPrefix("ag-1")),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})) // denials are what some tests expect
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return &fleet{data: data, bus: b, srv: srv, kv: kv, creds: creds, agent: nc}
}

// ruleSet compiles one rule named name.
func ruleSet(t *testing.T, name string) *rules.Set {
	t.Helper()
	set, diags := rules.Load(rules.Source{Name: name + ".hcl", Data: fmt.Appendf(nil, `rule %q {
  severity = "high"
  when     = kind == "process.exec" && process.comm == "pg_dump"
}
`, name)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return set
}

func (f *fleet) publish(t *testing.T, ctx context.Context, site, rule string) *bundle.Bundle {
	t.Helper()
	b, err := bundles.Publish(f.data, site, ruleSet(t, rule), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return b
}

// applied records what the syncer ran.
type applied struct {
	mu   sync.Mutex
	runs []string // "version:rule names"
}

func (a *applied) apply(set *rules.Set, b *bundle.Bundle) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.runs = append(a.runs, fmt.Sprintf("%d:%s", b.Version, strings.Join(set.Names(), ",")))
}

func (a *applied) last() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.runs) == 0 {
		return ""
	}
	return a.runs[len(a.runs)-1]
}

func newSyncer(t *testing.T, f *fleet, state string, ap *applied) *Syncer {
	t.Helper()
	key, err := bundle.ParsePublicKey(f.creds.RulesKey)
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Site: "lisbon", Key: key, StateDir: state, Apply: ap.apply, Poll: time.Hour, Logger: quiet})
}

func waitRunning(t *testing.T, s *Syncer, ap *applied, want string) {
	t.Helper()
	testproc.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if got := ap.last(); got != want {
			_, refused := s.Status()
			return fmt.Errorf("the agent runs %q, want %q (last refusal: %q)", got, want, refused)
		}
		return nil
	})
}

// A bundle published for the agent's site, then one for every site, each
// reaches the agent over its own restricted NATS connection, in order,
// without a poll (the syncer polls hourly here).
func TestAgentRunsEachPublishedBundle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := startFleet(t, ctx)
	state := t.TempDir()
	ap := &applied{}
	s := newSyncer(t, f, state, ap)
	go s.Run(ctx, f.agent)

	f.publish(t, ctx, "porto", "porto_only") // another site's: never seen here
	b1 := f.publish(t, ctx, "lisbon", "first")
	waitRunning(t, s, ap, fmt.Sprintf("%d:first", b1.Version))
	b2 := f.publish(t, ctx, bundle.AllSites, "everywhere")
	if b2.Version <= b1.Version {
		t.Fatalf("versions %d then %d: they must grow across sites", b1.Version, b2.Version)
	}
	waitRunning(t, s, ap, fmt.Sprintf("%d:everywhere", b2.Version))
	if v, refused := s.Status(); v != b2.Version || refused != "" {
		t.Fatalf("status %d %q, want %d and no refusal", v, refused, b2.Version)
	}
	if got := f.srv.Current("lisbon"); got != b2.Version {
		t.Errorf("the collector's current bundle for lisbon is %d, want %d", got, b2.Version)
	}
	// The hash the agent reports is the one the collector checks it by.
	if want, ok := f.srv.Hash(b2.Version); !ok || s.Hash() != want {
		t.Errorf("the agent runs bundle %d with hash %q; the collector knows it as %q (%v)", b2.Version, s.Hash(), want, ok)
	}
}

// An agent that starts while the collector cannot be reached runs the last
// bundle it verified, not the rules it had before the bundle.
func TestRestartWithoutCollectorRunsTheLastGoodBundle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := startFleet(t, ctx)
	state := t.TempDir()
	ap := &applied{}
	s := newSyncer(t, f, state, ap)
	runCtx, stop := context.WithCancel(ctx)
	go s.Run(runCtx, f.agent)
	b := f.publish(t, ctx, "lisbon", "kept")
	waitRunning(t, s, ap, fmt.Sprintf("%d:kept", b.Version))
	stop()
	f.bus.Close()

	again := &applied{}
	s2 := newSyncer(t, f, state, again)
	v, err := s2.Resume()
	if err != nil || v != b.Version || again.last() != fmt.Sprintf("%d:kept", b.Version) {
		t.Fatalf("after a restart: version %d (%v), running %q", v, err, again.last())
	}

	// The kept copy edited on disk is refused like a tampered bundle.
	path := filepath.Join(state, FileName)
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), `"payload":"`, `"payload":"A`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	edited := &applied{}
	s3 := newSyncer(t, f, state, edited)
	if v, err := s3.Resume(); err == nil || v != 0 || edited.last() != "" {
		t.Fatalf("an edited kept bundle: version %d, err %v, running %q", v, err, edited.last())
	}
	if _, refused := s3.Status(); refused == "" {
		t.Error("the refused kept bundle is not reported")
	}
}

// Whoever can put values in the bucket (a compromised collector account,
// a NATS administrator) still cannot make the agent run other rules: an
// altered byte, another key's signature, an unsigned bundle, a replay of
// an older bundle and another site's bundle are each refused, the running
// bundle stays, and the refusal is reported.
func TestAgentRefusesBadBundles(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := startFleet(t, ctx)
	ap := &applied{}
	s := newSyncer(t, f, t.TempDir(), ap)
	go s.Run(ctx, f.agent)
	old := f.publish(t, ctx, "lisbon", "older")
	waitRunning(t, s, ap, fmt.Sprintf("%d:older", old.Version))
	oldData, err := f.kv.Get(ctx, bundle.Key("lisbon"))
	if err != nil {
		t.Fatal(err)
	}
	good := f.publish(t, ctx, "lisbon", "good")
	running := fmt.Sprintf("%d:good", good.Version)
	waitRunning(t, s, ap, running)
	cur, err := f.kv.Get(ctx, bundle.Key("lisbon"))
	if err != nil {
		t.Fatal(err)
	}
	f.publish(t, ctx, "porto", "porto_only")
	porto, err := f.kv.Get(ctx, bundle.Key("porto"))
	if err != nil {
		t.Fatal(err)
	}

	var signed bundle.Signed
	if err := json.Unmarshal(cur.Value(), &signed); err != nil {
		t.Fatal(err)
	}
	reencode := func(s bundle.Signed) []byte { b, _ := json.Marshal(s); return b }
	var payload bundle.Bundle
	if err := json.Unmarshal(signed.Payload, &payload); err != nil {
		t.Fatal(err)
	}
	payload.Files[0].Data = []byte(strings.Replace(string(payload.Files[0].Data), "pg_dump", "xg_dump", 1))
	edited := signed
	if edited.Payload, err = json.Marshal(payload); err != nil {
		t.Fatal(err)
	}
	flipped := signed
	flipped.Payload = append([]byte(nil), signed.Payload...)
	flipped.Payload[len(flipped.Payload)/2] ^= 1
	_, otherKey, _ := ed25519.GenerateKey(nil)
	forged, err := bundle.New("lisbon", good.Version+10, ruleSet(t, "forged"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	forgedData, err := bundle.Sign(otherKey, forged)
	if err != nil {
		t.Fatal(err)
	}
	unsigned := signed
	unsigned.Signature = nil
	cases := []struct {
		name string
		key  string
		data []byte
		want error
	}{
		{"one byte altered", bundle.Key("lisbon"), reencode(flipped), bundle.ErrSignature},
		{"rule text edited", bundle.Key("lisbon"), reencode(edited), bundle.ErrSignature},
		{"signed with another key", bundle.Key("lisbon"), forgedData, bundle.ErrSignature},
		{"unsigned", bundle.Key("lisbon"), reencode(unsigned), bundle.ErrUnsigned},
		{"older version replayed", bundle.Key("lisbon"), oldData.Value(), bundle.ErrRollback},
		{"another site's bundle on this site's key", bundle.Key("lisbon"), porto.Value(), bundle.ErrSite},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := f.kv.Put(ctx, c.key, c.data); err != nil {
				t.Fatal(err)
			}
			testproc.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
				_, refused := s.Status()
				if !strings.Contains(refused, c.want.Error()) {
					return fmt.Errorf("last refusal %q, want one saying %q", refused, c.want)
				}
				return nil
			})
			if got := ap.last(); got != running {
				t.Fatalf("the agent runs %q after the bad bundle, want %q", got, running)
			}
		})
	}
	if err := s.Offer(bundle.Key("lisbon"), cur.Value()); err != nil {
		t.Errorf("the running bundle offered again: %v, want it ignored", err)
	}
	if !errors.Is(s.Offer(bundle.Key("lisbon"), oldData.Value()), bundle.ErrRollback) {
		t.Error("Offer of the older bundle is not ErrRollback")
	}
}

// The agent's key reads its own site's bundles and every site's, and
// nothing else: not another site's, and it cannot put any.
func TestAgentPermissionsOnBundles(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := startFleet(t, ctx)
	f.publish(t, ctx, "porto", "porto_only")
	f.publish(t, ctx, "lisbon", "mine")
	if _, err := Get(ctx, f.agent, bundle.Key("lisbon")); err != nil {
		t.Fatalf("reading its own site's bundle: %v", err)
	}
	if _, err := Get(ctx, f.agent, bundle.Key(bundle.AllSites)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reading the (empty) global key: %v, want ErrNotFound", err)
	}
	if _, err := Get(ctx, f.agent, bundle.Key("porto")); err == nil {
		t.Fatal("the agent read another site's bundle")
	}
	errs := make(chan error, 4)
	nc, err := nats.Connect(f.bus.ClientURL(), nats.Nkey(mustPub(t, f.creds), mustSign(t, f.creds)),
		nats.CustomInboxPrefix(publish.InboxPrefix("ag-1")),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.SubscribeSync(bundle.Subject(bundle.Key("porto"))); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(bundle.Subject(bundle.Key("lisbon")), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	var denied []string
	testproc.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		select {
		case err := <-errs:
			denied = append(denied, err.Error())
		default:
		}
		all := strings.Join(denied, "\n")
		if !strings.Contains(all, "Subscription to \"$KV.VIGIL_RULES.site.porto\"") || !strings.Contains(all, "Publish to \"$KV.VIGIL_RULES.site.lisbon\"") {
			return fmt.Errorf("permission errors so far: %q", all)
		}
		return nil
	})
	e, err := f.kv.Get(ctx, bundle.Key("lisbon"))
	if err != nil || string(e.Value()) == "{}" {
		t.Fatalf("the agent's publish reached the bucket: %v", err)
	}
}

func mustPub(t *testing.T, c *publish.Creds) string {
	kp, err := c.KeyPair()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	return pub
}

func mustSign(t *testing.T, c *publish.Creds) nats.SignatureHandler {
	kp, err := c.KeyPair()
	if err != nil {
		t.Fatal(err)
	}
	return kp.Sign
}

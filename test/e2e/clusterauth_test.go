package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/enrol"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testnats"
	"github.com/vigilhq/vigil/internal/testproc"
)

// socCluster is docs/deploy.md's scale-out topology as an operator sets it
// up: three core nodes and a leaf node for leeds, each including the file
// vigil-collector nats-config writes from the collector's enrolment records.
type socCluster struct {
	dir        string // every server's configuration, beside the generated files it includes
	data       string // the collector's data directory
	core       map[string]*natsNode
	clientURLs []string
	leafRemote string // the core nodes' leaf node listen URLs, for a remote
	leaf       *natsNode
	leafURL    string
	leafMon    int
}

// startSOCCluster enrols nothing itself: call it after the agents known at
// the start are enrolled in data.
func startSOCCluster(t *testing.T, data string) *socCluster {
	t.Helper()
	s := &socCluster{dir: t.TempDir(), data: data, core: map[string]*natsNode{}}
	s.natsConfig(t)
	const n = 3
	client, route, leaf := make([]int, n), make([]int, n), make([]int, n)
	var routes, leafURLs []string
	for i := range n {
		client[i], route[i], leaf[i] = testproc.FreePort(t), testproc.FreePort(t), testproc.FreePort(t)
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", route[i]))
		leafURLs = append(leafURLs, fmt.Sprintf(`"nats://127.0.0.1:%d"`, leaf[i]))
		s.clientURLs = append(s.clientURLs, fmt.Sprintf("nats://127.0.0.1:%d", client[i]))
	}
	s.leafRemote = strings.Join(leafURLs, ", ")
	for i := range n {
		name := fmt.Sprintf("soc-%d", i+1)
		s.core[name] = s.start(t, name, fmt.Sprintf(`server_name: %s
listen: 127.0.0.1:%d
jetstream { store_dir: %q }
cluster {
  name: vigil-soc
  listen: 127.0.0.1:%d
  routes: [%s]
}
leafnodes { listen: 127.0.0.1:%d }
include ./vigil-core.conf
`, name, client[i], t.TempDir(), route[i], strings.Join(routes, ", "), leaf[i]))
		s.core[name].url = s.clientURLs[i]
	}
	leafPort := testproc.FreePort(t)
	s.leafMon = testproc.FreePort(t)
	s.leaf = s.start(t, "leaf-leeds", fmt.Sprintf(`server_name: leaf-leeds
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
include ./vigil-leaf-leeds.conf
leafnodes { remotes = [ { urls: [%s], nkey: $%s } ] }
`, leafPort, s.leafMon, s.leafRemote, bus.LeafNKeyVariable))
	s.leafURL = fmt.Sprintf("nats://127.0.0.1:%d", leafPort)
	testproc.CheckFor(t, 30*time.Second, poll, func() error {
		if _, links := s.leafz(); links != 1 {
			return fmt.Errorf("the leaf node has %d links to the cluster, want 1", links)
		}
		return nil
	})
	return s
}

func (s *socCluster) start(t *testing.T, name, conf string) *natsNode {
	t.Helper()
	path := filepath.Join(s.dir, name+".conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return &natsNode{Proc: startNATSServer(t, "-c", path), name: name}
}

// natsConfig writes the core nodes' file and leeds's leaf node's file from
// the enrolment records with the vigil-collector binary, as the operator
// does after each enrolment or revocation.
func (s *socCluster) natsConfig(t *testing.T) {
	t.Helper()
	for file, extra := range map[string][]string{"vigil-core.conf": nil, "vigil-leaf-leeds.conf": {"--leaf-site", "leeds"}} {
		args := append([]string{"nats-config", "--data", s.data, "--out", filepath.Join(s.dir, file)}, extra...)
		if out, err := exec.Command(filepath.Join(binaries(t), "vigil-collector"), args...).CombinedOutput(); err != nil {
			t.Fatalf("vigil-collector %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// reload has every running server of the topology read its configuration
// again (nats-server --signal reload) and waits until each says it did.
func (s *socCluster) reload(t *testing.T) {
	t.Helper()
	const done = "Reloaded server configuration"
	nodes := []*natsNode{s.leaf}
	for _, n := range s.core {
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		if n.Exited() {
			continue
		}
		before := strings.Count(n.Log(), done)
		sig := fmt.Sprintf("reload=%d", n.Pid())
		if out, err := exec.Command(testnats.Binary(t), "--signal", sig).CombinedOutput(); err != nil {
			t.Fatalf("nats-server --signal %s: %v\n%s", sig, err, out)
		}
		if err := n.WaitLog(t.Context(), 30*time.Second, func(log string) bool { return strings.Count(log, done) > before }); err != nil {
			t.Fatalf("%s did not reload: %v\n%s", n.name, err, testproc.Tail(n.Log(), 2000))
		}
	}
}

// restartLeaf restarts leeds's leaf node from its files: its link to the
// core takes the leaf key's permissions when it connects, and a reload of
// the core nodes does not change them for a link already up.
func (s *socCluster) restartLeaf(t *testing.T) {
	t.Helper()
	s.leaf.Stop(syscall.SIGTERM, 10*time.Second)
	s.leaf = &natsNode{Proc: startNATSServer(t, "-c", filepath.Join(s.dir, "leaf-leeds.conf")), name: "leaf-leeds"}
	testproc.CheckFor(t, 30*time.Second, poll, func() error {
		if _, links := s.leafz(); links != 1 {
			return fmt.Errorf("the restarted leaf node has %d links to the cluster, want 1", links)
		}
		return nil
	})
}

// leafz reports the agents connected to the leaf and its links to the
// cluster.
func (s *socCluster) leafz() (agents, links int) { return leafzAt(s.leafMon) }

// leafzAt reports the agents connected to the leaf node with monitoring
// port mon and its links to the cluster.
func leafzAt(mon int) (agents, links int) {
	var connz struct {
		Conns []struct {
			Name string `json:"name"`
		} `json:"connections"`
	}
	var lz struct {
		N int `json:"leafnodes"`
	}
	for path, into := range map[string]any{"/connz": &connz, "/leafz": &lz} {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", mon, path))
		if err != nil {
			return -1, -1
		}
		json.NewDecoder(resp.Body).Decode(into)
		resp.Body.Close()
	}
	for _, c := range connz.Conns {
		// An agent's publishing connection, not its rule bundles' one nor
		// its preflight check.
		if id, ok := strings.CutPrefix(c.Name, "vigil-agent "); ok && !strings.Contains(id, " ") && id != "preflight" {
			agents++
		}
	}
	return agents, lz.N
}

// connectWith connects to url signing with the NKey seed seed (none when
// nil), with the inbox prefix an agent of agentID is allowed.
func connectWith(url string, seed []byte, agentID string) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name("e2e identity probe"), nats.NoReconnect(), nats.Timeout(5 * time.Second)}
	if agentID != "" {
		opts = append(opts, nats.CustomInboxPrefix("_INBOX."+agentID))
	}
	if seed != nil {
		kp, err := nkeys.FromSeed(seed)
		if err != nil {
			return nil, err
		}
		pub, _ := kp.PublicKey()
		opts = append(opts, nats.Nkey(pub, kp.Sign))
	}
	return nats.Connect(url, opts...)
}

// seedOf reads the seed out of a credentials file vigil enrol wrote.
func seedOf(t *testing.T, creds []byte) []byte {
	t.Helper()
	kp, err := nkeys.ParseDecoratedNKey(creds)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	return seed
}

// publishAs publishes through JetStream on nc, as agent subjAgent of site
// subjSite, an event whose payload says it is agent id of site.
func publishAs(nc *nats.Conn, subjSite, subjAgent, site, id string) error {
	ev := &event.Event{ID: event.MakeID("bootforged", 1), Time: time.Now().UTC(), Kind: event.KindFileWrite,
		Site: site, Host: "ws-forged", AgentID: id, BootID: "bootforged", Seq: 1,
		Process: &event.Process{PID: 42, User: "mona", LoginUser: "mona", LoginUID: 1013},
		File:    &event.File{Path: "/home/mona/forged.csv", Bytes: 4096}}
	data, err := event.Encode(ev)
	if err != nil {
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err = js.Publish(ctx, event.Subject(subjSite, subjAgent, event.ClassEvents), data)
	return err
}

// eavesdropper is a client of a leaf node subscribed to every subject,
// recording what reaches it.
type eavesdropper struct {
	mu       sync.Mutex
	subjects map[string]int
}

func (e *eavesdropper) seen(prefix string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for s, c := range e.subjects {
		if strings.HasPrefix(s, prefix) {
			n += c
		}
	}
	return n
}

// beyond lists the subjects it received that none of allow matches.
func (e *eavesdropper) beyond(allow []string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for s, c := range e.subjects {
		ok := false
		for _, a := range allow {
			ok = ok || server.SubjectMatchesFilter(s, a)
		}
		if !ok {
			out = append(out, fmt.Sprintf("%s (%d)", s, c))
		}
	}
	return out
}

func listen(t *testing.T, nc *nats.Conn) *eavesdropper {
	t.Helper()
	e := &eavesdropper{subjects: map[string]int{}}
	if _, err := nc.Subscribe(">", func(m *nats.Msg) {
		e.mu.Lock()
		e.subjects[m.Subject]++
		e.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return e
}

// refusedAt says why connecting to url with seed is expected to fail, and
// fails the test if it does not.
func refusedAt(t *testing.T, url string, seed []byte, who string) {
	t.Helper()
	nc, err := connectWith(url, seed, "")
	if err == nil {
		nc.Close()
		t.Errorf("%s connected to %s", who, url)
		return
	}
	if !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
		t.Errorf("%s at %s: %v, want an authorization violation", who, url, err)
	}
}

// agentSeed enrols an agent of site and returns its record and seed.
func agentSeed(t *testing.T, data, site, host string) (enrol.Agent, []byte) {
	t.Helper()
	a, creds, err := enrol.Enrol(filepath.Join(data, "agents"), site, host, "")
	if err != nil {
		t.Fatal(err)
	}
	return *a, seedOf(t, creds)
}

// identities are the keys TestClusterWithLeafNode's identity checks use:
// the publisher's (pub), an agent of leeds whose identity it borrows, and
// an agent of manila, which has no business at leeds's leaf node.
type identities struct {
	pub        string
	pubSeed    []byte
	victim     enrol.Agent
	manila     enrol.Agent
	manilaSeed []byte
}

// checkIdentities tries, on the running cluster, each way around an
// agent's key, and returns an eavesdropper on a leaf node started with
// leeds's leaf key but open to anyone, for the caller to check once the
// collector has been fetching for a while.
func checkIdentities(t *testing.T, soc *socCluster, c *collector, core *nats.Conn, ids identities) *eavesdropper {
	t.Helper()
	nc, err := connectWith(soc.leafURL, ids.pubSeed, ids.pub)
	if err != nil {
		t.Fatalf("the publisher's key at the leaf node: %v", err)
	}
	defer nc.Close()
	// Its own key, another agent's subjects: the leaf node refuses it.
	if err := publishAs(nc, "leeds", ids.victim.AgentID, "leeds", ids.victim.AgentID); err == nil {
		t.Errorf("the publisher's key published on %s's subjects through the leaf node", ids.victim.AgentID)
	}
	// Its own subjects, a payload claiming another agent: it reaches the
	// collector, which stores the alert and not the event.
	if err := publishAs(nc, "leeds", ids.pub, "leeds", ids.victim.AgentID); err != nil {
		t.Fatalf("the publisher's key on its own subjects through the leaf node: %v", err)
	}
	c.agentAlert(t, "vigil_identity_mismatch", ids.pub, "", func(a *event.Alert) error {
		if !strings.Contains(a.Summary, ids.victim.AgentID) {
			return fmt.Errorf("alert %q does not name %s", a.Summary, ids.victim.AgentID)
		}
		return nil
	})

	unknown, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	unknownSeed, _ := unknown.Seed()
	refusedAt(t, soc.leafURL, unknownSeed, "a key never enrolled")
	refusedAt(t, soc.clientURLs[0], unknownSeed, "a key never enrolled")
	// manila's agent is refused at leeds's leaf node, though its key is
	// good on the core.
	refusedAt(t, soc.leafURL, ids.manilaSeed, "manila's agent")
	if mc, err := connectWith(soc.clientURLs[0], ids.manilaSeed, ids.manila.AgentID); err != nil {
		t.Errorf("manila's agent at a core node: %v", err)
	} else {
		mc.Close()
	}

	// A leaf node whose operator uses leeds's leaf key but lets anyone in:
	// the core holds it to leeds's agents' subjects.
	leaf, err := bus.LeafKey(soc.data, "leeds")
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := leaf.Seed()
	port, mon := testproc.FreePort(t), testproc.FreePort(t)
	soc.start(t, "leaf-open", fmt.Sprintf(`server_name: leaf-open
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
leafnodes { remotes = [ { urls: [%s], nkey: %q } ] }
`, port, mon, soc.leafRemote, seed))
	testproc.CheckFor(t, 30*time.Second, poll, func() error {
		if _, links := leafzAt(mon); links != 1 {
			return fmt.Errorf("the open leaf node has %d links to the cluster, want 1", links)
		}
		return nil
	})
	openURL := fmt.Sprintf("nats://127.0.0.1:%d", port)
	fc, err := connectWith(openURL, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := publishAs(fc, "manila", ids.manila.AgentID, "manila", ids.manila.AgentID); err == nil {
		t.Errorf("an event of manila's agent through a leaf node with leeds's key was stored")
	}
	fc.Close()
	// Listening after that publish, so as not to hear it locally.
	rc, err := connectWith(openURL, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	eav := listen(t, rc)
	// What leeds's agents may receive reaches it: its subscription to
	// everything is in place before the load starts.
	probe := "_INBOX." + ids.pub + ".probe"
	testproc.CheckFor(t, 30*time.Second, poll, func() error {
		if err := core.Publish(probe, nil); err != nil {
			return err
		}
		if eav.seen(probe) == 0 {
			return fmt.Errorf("nothing on %s reached the open leaf node", probe)
		}
		return nil
	})
	return eav
}

// checkNothingBeyondTheSite fails the test if the open leaf node received
// what leeds's agents may not, or if anything the refused attempts sent is
// stored.
func checkNothingBeyondTheSite(t *testing.T, data string, eav *eavesdropper, ids identities) {
	t.Helper()
	agents, errs := enrol.Load(filepath.Join(data, "agents"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	perms, err := bus.LeafPermissions("leeds", agents)
	if err != nil {
		t.Fatal(err)
	}
	if out := eav.beyond(perms.Subscribe.Allow); len(out) > 0 {
		t.Errorf("a leaf node with leeds's key received what leeds's agents may not: %v", out)
	}
	for _, a := range []enrol.Agent{ids.victim, ids.manila} {
		if n := storedCount(t, data, a.AgentID); n != 0 {
			t.Errorf("%d events of %s (%s) are stored, from attempts that were refused", n, a.AgentID, a.Site)
		}
	}
}

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
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testproc"
)

// natsNode is one nats-server process of the topology.
type natsNode struct {
	*testproc.Proc
	name string
	url  string
}

func startNATS(t *testing.T, name, conf string) *natsNode {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return &natsNode{Proc: startNATSServer(t, "-c", path), name: name}
}

// The deployment of docs/deploy.md: three nats-server nodes with JetStream
// at the SOC, a leaf node (no JetStream of its own) at the site, the
// collector on the cluster with three replicas, and agents connected only
// to the leaf: a publisher (the agent's publish package) numbering a steady
// load, and as root the real vigil-agent. Events cross the leaf node into
// the replicated stream exactly once; killing one cluster node (the
// stream's leader) mid-stream loses nothing: every numbered event is stored
// once, every process the real agent saw before and during the election is
// stored, and no gap remains in its seq.
func TestClusterWithLeafNode(t *testing.T) {
	const n = 3
	client, route, leaf := make([]int, n), make([]int, n), make([]int, n)
	var routes, leafURLs, clientURLs []string
	for i := range n {
		client[i], route[i], leaf[i] = testproc.FreePort(t), testproc.FreePort(t), testproc.FreePort(t)
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", route[i]))
		leafURLs = append(leafURLs, fmt.Sprintf(`"nats://127.0.0.1:%d"`, leaf[i]))
		clientURLs = append(clientURLs, fmt.Sprintf("nats://127.0.0.1:%d", client[i]))
	}
	nodes := map[string]*natsNode{}
	for i := range n {
		name := fmt.Sprintf("soc-%d", i+1)
		nodes[name] = startNATS(t, name, fmt.Sprintf(`server_name: %s
listen: 127.0.0.1:%d
jetstream { store_dir: %q }
cluster {
  name: vigil-soc
  listen: 127.0.0.1:%d
  routes: [%s]
}
leafnodes { listen: 127.0.0.1:%d }
`, name, client[i], t.TempDir(), route[i], strings.Join(routes, ", "), leaf[i]))
		nodes[name].url = clientURLs[i]
	}
	leafPort, leafMon := testproc.FreePort(t), testproc.FreePort(t)
	startNATS(t, "leaf-leeds", fmt.Sprintf(`server_name: leaf-leeds
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
leafnodes { remotes = [ { urls: [%s] } ] }
`, leafPort, leafMon, strings.Join(leafURLs, ", ")))
	// leafz reports the agents connected to the leaf and its links to the
	// cluster.
	leafz := func() (agents, links int) {
		var connz struct {
			Conns []struct {
				Name string `json:"name"`
			} `json:"connections"`
		}
		var lz struct {
			N int `json:"leafnodes"`
		}
		for path, into := range map[string]any{"/connz": &connz, "/leafz": &lz} {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", leafMon, path))
			if err != nil {
				return -1, -1
			}
			json.NewDecoder(resp.Body).Decode(into)
			resp.Body.Close()
		}
		for _, c := range connz.Conns {
			if strings.HasPrefix(c.Name, "vigil-agent ") {
				agents++
			}
		}
		return agents, lz.N
	}
	testproc.CheckFor(t, 30*time.Second, poll, func() error {
		if _, links := leafz(); links != 1 {
			return fmt.Errorf("the leaf node has %d links to the cluster, want 1", links)
		}
		return nil
	})
	leafURL := fmt.Sprintf("nats://127.0.0.1:%d", leafPort)

	data := t.TempDir()
	c := startCollector(t, data, 0, "--nats-url", strings.Join(clientURLs, ","), "--replicas", "3")

	// Watch the stream from the cluster's side.
	nc, err := nats.Connect(strings.Join(clientURLs, ","), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var info *jetstream.StreamInfo
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s, err := js.Stream(ctx, bus.Stream)
		if err != nil {
			return fmt.Errorf("stream %s: %w", bus.Stream, err)
		}
		info, err = s.Info(ctx)
		if err != nil {
			return fmt.Errorf("stream %s: %w", bus.Stream, err)
		}
		if info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != 2 {
			return fmt.Errorf("stream %s has cluster %+v, want a leader and two replicas", bus.Stream, info.Cluster)
		}
		for _, r := range info.Cluster.Replicas {
			if !r.Current {
				return fmt.Errorf("stream %s: replica %s is not current", bus.Stream, r.Name)
			}
		}
		return nil
	})
	if info.Config.Replicas != 3 {
		t.Fatalf("stream has %d replicas, want 3", info.Config.Replicas)
	}

	// The agent's publisher knows only the leaf node, which has no
	// JetStream: every ack comes from the cluster through the leaf.
	cfg := enrolled(t, data, "leeds", leafURL)
	id := cfg.Identity.AgentID
	cfg.Identity = nil // the external cluster is open in this test (docs/deploy.md shows its accounts)
	cfg.URL = leafURL
	e := &emitter{pub: newPublisher(t, cfg, "leeds", id), boot: "bootcluster", site: "leeds", id: id}

	// As root, the real agent too, watching processes, publishes through
	// the leaf without credentials (the cluster here has no accounts).
	var ag *agentProc
	marked := 0
	mark := func(n int) {
		for range n {
			marked++
			if out, err := exec.Command("/bin/true", fmt.Sprintf("vigil-cluster-mark-%d-", marked)).CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
		}
	}
	if os.Geteuid() == 0 {
		ag = startAgent(t, c, data, leafURL, agentOpts{site: "leeds", host: "ws-leeds-02", open: true,
			rulesDir: filepath.Join(t.TempDir(), "none"), sensors: []string{"process"}})
	} else {
		t.Log("not root: the real agent's part of the test is skipped")
	}

	stop := make(chan struct{})
	done := load(t, e, stop)
	testproc.CheckFor(t, 60*time.Second, poll, func() error { return storedMoreThan(t, data, id, 2000) })
	leader := nodes[info.Cluster.Leader]
	if leader == nil {
		t.Fatalf("stream leader %q is not one of the nodes", info.Cluster.Leader)
	}
	if ag != nil {
		mark(20)
	}
	leader.Stop(syscall.SIGKILL, 0)
	if ag != nil {
		mark(20) // while the cluster elects a new leader
	}
	atKill := storedCount(t, data, id)
	t.Logf("killed %s (the stream leader) with %d events stored", leader.name, atKill)
	testproc.CheckFor(t, 90*time.Second, poll, func() error { return storedMoreThan(t, data, id, atKill+4000) })
	close(stop)
	<-done
	testproc.CheckFor(t, 120*time.Second, poll, func() error { return storedAll(t, data, e) })
	if ag != nil {
		for i := 1; i <= marked; i++ {
			cond := fmt.Sprintf("json_extract(body, '$.process.cmdline') LIKE '%% vigil-cluster-mark-%d-'", i)
			testproc.CheckFor(t, 60*time.Second, poll, func() error {
				if n := storedEvents(t, data, ag.id, event.KindProcessExec, "", cond); n != 1 {
					return fmt.Errorf("the agent's marked exec %d of %d is stored %d times, want once", i, marked, n)
				}
				return nil
			})
		}
		testproc.CheckFor(t, 30*time.Second, poll, func() error {
			var losses []store.Loss
			c.get(t, "/api/loss?agent_id="+ag.id, &losses)
			for _, l := range losses {
				if l.Reason == store.ReasonSeqGap && l.Count > 0 {
					return fmt.Errorf("a gap is left in the agent's seq: %+v", l)
				}
			}
			return nil
		})
	}
	c.Stop(syscall.SIGTERM, 0)
	checkExactlyOnce(t, data, e)
	// The agents are connected to the leaf, and the leaf is linked to the
	// cluster again after losing a node.
	want := 1
	if ag != nil {
		want = 2
	}
	if agents, links := leafz(); agents != want || links != 1 {
		t.Errorf("leaf node has %d agents and %d links to the cluster, want %d and 1", agents, links, want)
	}
	if st := e.pub.Stats(); st.Depth != 0 {
		t.Errorf("spool depth %d after everything was stored", st.Depth)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s, err := js.Stream(ctx, bus.Stream); err != nil {
		t.Errorf("stream after the kill: %v", err)
	} else if info, err := s.Info(ctx); err != nil {
		t.Errorf("stream info after the kill: %v", err)
	} else if info.Cluster.Leader == "" || info.Cluster.Leader == leader.name {
		t.Errorf("stream leader after the kill is %q", info.Cluster.Leader)
	}
	t.Logf("%d events through the leaf node, none lost or doubled", e.seq)
}

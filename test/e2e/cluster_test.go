package e2e

import (
	"context"
	"fmt"
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
	"github.com/vigilhq/vigil/collector/enrol"
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

// The deployment of docs/deploy.md: three nats-server nodes with JetStream
// at the SOC, a leaf node (no JetStream of its own) at the site, the
// collector on the cluster with three replicas, and agents connected only
// to the leaf: a publisher (the agent's publish package) numbering a steady
// load, and as root the real vigil-agent. Every server includes what
// vigil-collector nats-config writes: the core nodes know the collector,
// the agents and the leaf node's own key, the leaf node only leeds's
// agents; the real agent, enrolled while the servers run, is let in by
// writing the files again, reloading the core and restarting the leaf. Events cross the leaf
// node into the replicated stream exactly once; killing one cluster node
// (the stream's leader) mid-stream loses nothing: every numbered event is
// stored once, every process the real agent saw before and during the
// election is stored, and no gap remains in its seq. The ways around the
// keys are refused on this cluster (TestClusterWithLeafNode's identity
// checks below): a key publishing on another agent's subjects, a payload
// claiming another agent, a key never enrolled, an agent of another site at
// this site's leaf node, and a leaf node that lets anyone in using the
// site's key, which can neither speak for another site nor read the
// collector's deliveries; and once an agent is revoked and the servers
// reloaded, its key is refused.
func TestClusterWithLeafNode(t *testing.T) {
	data := t.TempDir()
	// The agents known before the servers start: the publisher, a leeds
	// agent whose identity the others try to borrow, and a manila agent.
	cfg := enrolled(t, data, "leeds", "")
	id := cfg.Identity.AgentID
	pubSeed := []byte(cfg.Identity.Seed)
	victim, _ := agentSeed(t, data, "leeds", "ws-leeds-03")
	manila, manilaSeed := agentSeed(t, data, "manila", "ws-manila-01")
	soc := startSOCCluster(t, data)
	nodes, clientURLs, leafURL := soc.core, soc.clientURLs, soc.leafURL

	c := startCollector(t, data, 0, "--nats-url", strings.Join(clientURLs, ","),
		"--nats-creds", filepath.Join(data, bus.CollectorKeyFile), "--replicas", "3")

	// Watch the stream from the cluster's side, with the collector's key.
	collectorKey, err := nats.NkeyOptionFromSeed(filepath.Join(data, bus.CollectorKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(strings.Join(clientURLs, ","), nats.MaxReconnects(-1), collectorKey)
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

	ids := identities{pub: id, pubSeed: pubSeed, victim: victim, manila: manila, manilaSeed: manilaSeed}
	eav := checkIdentities(t, soc, c, nc, ids)

	// The agent's publisher knows only the leaf node, which has no
	// JetStream: every ack comes from the cluster through the leaf.
	cfg.URL = leafURL
	e := &emitter{pub: newPublisher(t, cfg, "leeds", id), boot: "bootcluster", site: "leeds", id: id}

	// As root, the real agent too, watching processes, publishes through
	// the leaf with the key it is enrolled with while the servers run.
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
		ag = startAgent(t, c, data, leafURL, agentOpts{site: "leeds", host: "ws-leeds-02",
			rulesDir: filepath.Join(t.TempDir(), "none"), sensors: []string{"process"},
			enrolled: func() { soc.natsConfig(t); soc.reload(t); soc.restartLeaf(t) }})
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
	markStored := func(i int) {
		cond := fmt.Sprintf("json_extract(body, '$.process.cmdline') LIKE '%% vigil-cluster-mark-%d-'", i)
		testproc.CheckFor(t, 60*time.Second, poll, func() error {
			if n := storedEvents(t, data, ag.id, event.KindProcessExec, "", cond); n != 1 {
				return fmt.Errorf("the agent's marked exec %d of %d is stored %d times, want once", i, marked, n)
			}
			return nil
		})
	}
	if ag != nil {
		for i := 1; i <= marked; i++ {
			markStored(i)
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
	checkNothingBeyondTheSite(t, data, eav, ids)
	// The agents are connected to the leaf, and the leaf is linked to the
	// cluster again after losing a node.
	want := 1
	if ag != nil {
		want = 2
	}
	if agents, links := soc.leafz(); agents != want || links != 1 {
		t.Errorf("leaf node has %d agents and %d links to the cluster, want %d and 1", agents, links, want)
	}
	if st := e.pub.Stats(); st.Depth != 0 {
		t.Errorf("spool depth %d after everything was stored", st.Depth)
	}

	// Revoked, the files written again and the servers reloaded, the
	// publisher's key is cut off and refused at the leaf node and the
	// core; the real agent carries on.
	if err := enrol.Revoke(filepath.Join(data, "agents"), id); err != nil {
		t.Fatal(err)
	}
	soc.natsConfig(t)
	soc.reload(t)
	refusedAt(t, leafURL, pubSeed, "the revoked publisher's key")
	for _, n := range nodes {
		if !n.Exited() {
			refusedAt(t, n.url, pubSeed, "the revoked publisher's key")
			break
		}
	}
	testproc.CheckFor(t, 30*time.Second, poll, func() error {
		if agents, _ := soc.leafz(); agents != want-1 {
			return fmt.Errorf("the leaf node has %d agents after the revocation, want %d", agents, want-1)
		}
		return nil
	})
	if ag != nil {
		mark(1)
		markStored(marked)
	}
	c.Stop(syscall.SIGTERM, 0)
	checkExactlyOnce(t, data, e)
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

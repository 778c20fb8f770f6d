package bus

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testnats"
	"github.com/vigilhq/vigil/internal/testproc"
)

// The deployment of docs/deploy.md in one process: three JetStream nodes,
// the collector on them with three replicas, agents publishing through a
// leaf node without JetStream. The priority consumer, made after the
// events consumer has acknowledged the first messages, starts there and
// gets the alerts and heartbeats only; the events consumer gets everything.
func TestPriorityConsumerOnClusterThroughLeaf(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	routes := make([]int, 3)
	var routeURLs []*url.URL
	for i := range routes {
		routes[i] = testproc.FreePort(t)
		routeURLs = append(routeURLs, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", routes[i])})
	}
	var hub []*server.Server
	for i := range routes {
		o := testnats.Options(t)
		o.ServerName = fmt.Sprintf("soc-%d", i+1)
		o.Cluster = server.ClusterOpts{Name: "vigil-soc", Host: "127.0.0.1", Port: routes[i]}
		o.Routes = routeURLs
		if i == 0 {
			o.LeafNode = server.LeafNodeOpts{Host: "127.0.0.1", Port: -1}
		}
		hub = append(hub, testnats.Run(t, o))
	}
	lo := testnats.Options(t)
	lo.JetStream = false
	lo.ServerName = "leaf-leeds"
	lo.LeafNode.Remotes = []*server.RemoteLeafOpts{{URLs: []*url.URL{{Scheme: "nats",
		Host: fmt.Sprintf("127.0.0.1:%d", leafPort(t, hub[0]))}}}}
	leaf := testnats.Run(t, lo)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := Start(ctx, Config{URL: hub[0].ClientURL() + "," + hub[1].ClientURL(), Replicas: 3},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	events, err := b.Consumer(ctx)
	if err != nil {
		t.Fatal(err)
	}

	nc, err := nats.Connect(leaf.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for deadline := time.Now().Add(30 * time.Second); leaf.NumLeafNodes() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the leaf node did not link to the cluster")
		}
		time.Sleep(20 * time.Millisecond)
	}
	agentJS, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	publish := func(class, body string) {
		t.Helper()
		if _, err := agentJS.Publish(ctx, event.Subject("leeds", "ag-1", class), []byte(body)); err != nil {
			t.Fatalf("publishing through the leaf: %v", err)
		}
	}
	fetch := func(c jetstream.Consumer, n int) []string {
		t.Helper()
		batch, err := c.Fetch(n, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for m := range batch.Messages() {
			got = append(got, string(m.Data()))
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
		}
		return got
	}
	publish(event.ClassEvents, "event 1")
	publish(event.ClassAlerts, "alert 2")
	publish(event.ClassHeartbeat, "heartbeat 1")
	if got := fmt.Sprint(fetch(events, 3)); got != "[event 1 alert 2 heartbeat 1]" {
		t.Fatalf("events consumer got %s", got)
	}

	prio, err := b.PriorityConsumer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info := prio.CachedInfo(); info.Config.Replicas != 3 {
		t.Errorf("priority consumer has %d replicas, want 3", info.Config.Replicas)
	}
	publish(event.ClassEvents, "event 3")
	publish(event.ClassAlerts, "alert 4")
	publish(event.ClassHeartbeat, "heartbeat 2")
	if got := fmt.Sprint(fetch(prio, 10)); got != "[alert 4 heartbeat 2]" {
		t.Fatalf("priority consumer got %s, want the alert and heartbeat published after the events consumer's acks", got)
	}
	if got := fmt.Sprint(fetch(events, 10)); got != "[event 3 alert 4 heartbeat 2]" {
		t.Fatalf("events consumer got %s", got)
	}
	// Made again (a collector restart), it resumes where it was.
	if prio, err = b.PriorityConsumer(ctx); err != nil {
		t.Fatal(err)
	}
	publish(event.ClassAlerts, "alert 5")
	if got := fmt.Sprint(fetch(prio, 10)); got != "[alert 5]" {
		t.Fatalf("after a restart the priority consumer got %s", got)
	}
}

func leafPort(t *testing.T, s *server.Server) int {
	t.Helper()
	v, err := s.Varz(nil)
	if err != nil {
		t.Fatal(err)
	}
	return v.LeafNode.Port
}

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/publish"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// storedCount counts an agent's events in the running collector's store
// through a read-only connection, which takes no write lock.
func storedCount(t *testing.T, data, agentID string) int {
	db, err := openStoreRO(data)
	if err != nil {
		return -1
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM events WHERE agent_id = ?`, agentID).Scan(&n); err != nil {
		return -1
	}
	return n
}

// storedMoreThan fails, saying how many are stored, unless more than n of
// agentID's events are.
func storedMoreThan(t *testing.T, data, agentID string, n int) error {
	if got := storedCount(t, data, agentID); got <= n {
		return fmt.Errorf("%d events stored, waiting for more than %d", got, n)
	}
	return nil
}

// storedAll fails, saying how many are stored, unless every event e
// emitted is.
func storedAll(t *testing.T, data string, e *emitter) error {
	if got := storedCount(t, data, e.id); got != int(e.seq) {
		return fmt.Errorf("%d of %d events stored", got, e.seq)
	}
	return nil
}

// collectorUnderLoad starts a collector with its embedded NATS (on port) in a
// new data directory and an enrolled leeds agent's publisher loading it, with boot
// id boot, until stop is closed; done closes when the load has stopped.
func collectorUnderLoad(t *testing.T, boot string) (data string, port int, c *collector, e *emitter, stop chan struct{}, done <-chan struct{}) {
	data = t.TempDir()
	port = testproc.FreePort(t)
	cfg := enrolled(t, data, "leeds", fmt.Sprintf("nats://127.0.0.1:%d", port))
	c = startCollector(t, data, port)
	e = &emitter{pub: newPublisher(t, cfg, "leeds", cfg.Identity.AgentID), boot: boot, site: "leeds", id: cfg.Identity.AgentID}
	stop = make(chan struct{})
	return data, port, c, e, stop, load(t, e, stop)
}

// load publishes batches until stop closes.
func load(t *testing.T, e *emitter, stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				e.emit(t, 20) // ~2000 events/s
			}
		}
	}()
	return done
}

func newPublisher(t *testing.T, cfg *publish.Config, site, agentID string) *publish.Publisher {
	t.Helper()
	p, err := publish.New(cfg, publish.Options{Site: site, Host: "ws-e2e", AgentID: agentID,
		AckTimeout: 2 * time.Second, DrainTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// kill -9 the collector (and its embedded NATS) mid-stream and start it
// again: every event id is in the store exactly once, none lost.
func TestCollectorKill9MidStream(t *testing.T) {
	data, port, c, e, stop, done := collectorUnderLoad(t, "bootk9")
	testproc.CheckFor(t, 60*time.Second, poll, func() error { return storedMoreThan(t, data, e.id, 2000) })
	c.Stop(syscall.SIGKILL, 0)
	time.Sleep(2 * time.Second) // load continues into the agent's spool meanwhile
	c = startCollector(t, data, port)
	testproc.CheckFor(t, 60*time.Second, poll, func() error { return storedMoreThan(t, data, e.id, 6000) })
	close(stop)
	<-done
	testproc.CheckFor(t, 90*time.Second, poll, func() error { return storedAll(t, data, e) })
	c.Stop(syscall.SIGTERM, 0)
	checkExactlyOnce(t, data, e)
	t.Logf("%d events, collector killed and restarted mid-stream", e.seq)
}

// Stop NATS (an external nats-server the collector uses) for --outage under
// load: the agent spools, then drains; every event arrives exactly once.
func TestNATSOutageUnderLoad(t *testing.T) {
	store := t.TempDir()
	port := testproc.FreePort(t)
	natsArgs := []string{"-a", "127.0.0.1", "-p", fmt.Sprint(port), "-js", "-sd", store}
	nats := startNATSServer(t, natsArgs...)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	data := t.TempDir()
	c := startCollector(t, data, 0, "--nats-url", url)
	// An external server has its own accounts (docs/deploy.md); this one
	// is open, so the agent connects without its NKey.
	cfg := enrolled(t, data, "manila", url)
	id := cfg.Identity.AgentID
	cfg.Identity = nil
	e := &emitter{pub: newPublisher(t, cfg, "manila", id), boot: "bootout", site: "manila", id: id}

	stop := make(chan struct{})
	done := load(t, e, stop)
	testproc.CheckFor(t, 60*time.Second, poll, func() error { return storedMoreThan(t, data, e.id, 1000) })
	nats.Stop(syscall.SIGKILL, 0)
	before := e.pub.Stats().Depth
	time.Sleep(*outage)
	during := e.pub.Stats().Depth
	if during <= before {
		t.Errorf("spool depth %d after the outage, %d before: the agent did not spool", during, before)
	}
	startNATSServer(t, natsArgs...) // killed at cleanup
	testproc.CheckFor(t, 120*time.Second, poll, func() error {
		if d := e.pub.Stats().Depth; d >= 100 {
			return fmt.Errorf("spool depth %d, waiting for it to drain below 100", d)
		}
		return nil
	})
	close(stop)
	<-done
	testproc.CheckFor(t, 120*time.Second, poll, func() error { return storedAll(t, data, e) })
	c.Stop(syscall.SIGTERM, 0)
	checkExactlyOnce(t, data, e)
	t.Logf("%d events, NATS down for %s with %d events spooled", e.seq, *outage, during)
}

// The spool overflows while the collector is away: the events dropped from
// it never reach the store, and the store's loss records name each of
// them once (spool_full, from the agent's report, not also seq_gap for the
// gap they leave), and no event that arrived.
func TestSpoolOverflowCountedOnce(t *testing.T) {
	data := t.TempDir()
	port := testproc.FreePort(t)
	cfg := enrolled(t, data, "leeds", fmt.Sprintf("nats://127.0.0.1:%d", port))
	cfg.SpoolMaxMiB = 1
	e := &emitter{pub: newPublisher(t, cfg, "leeds", cfg.Identity.AgentID), boot: "bootof", site: "leeds", id: cfg.Identity.AgentID}
	e.emit(t, 15000) // ~4 MiB of events into a 1 MiB spool, nothing listening
	c := startCollector(t, data, port)
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		if st := e.pub.Stats(); st.Depth != 0 || st.Dropped == 0 {
			return fmt.Errorf("spool depth %d with %d dropped, waiting for it to drain after dropping some", st.Depth, st.Dropped)
		}
		return nil
	})
	e.emit(t, 100) // and live events after it
	// Every event ends up stored or named in a spool_full loss row. The
	// spool's dropped count can be higher: it counts the loss records a
	// full spool dropped too, whose drops are then reported again.
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		n, named := storedEvents(t, data, e.id, event.KindFileWrite, "", ""), spoolFullNamed(t, data, e.id)
		if uint64(n)+named != e.seq {
			return fmt.Errorf("%d events stored and %d named lost, want the %d emitted", n, named, e.seq)
		}
		return nil
	})
	dropped := e.pub.Stats().Dropped
	// The loss records went before the live events, in order.
	c.Stop(syscall.SIGTERM, 0)
	st, err := store.Open(filepath.Join(data, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	ids, err := st.EventIDs(ctx, e.id)
	if err != nil {
		t.Fatal(err)
	}
	losses, err := st.Losses(ctx, e.id, 0)
	if err != nil {
		t.Fatal(err)
	}
	named := map[uint64]int{}
	for _, l := range losses {
		if l.Reason != publish.ReasonSpoolFull || l.BootID != e.boot || l.Count != l.ToSeq-l.FromSeq+1 {
			t.Fatalf("loss %+v: want spool_full rows of boot %s, counting their seqs", l, e.boot)
		}
		for q := l.FromSeq; q <= l.ToSeq; q++ {
			named[q]++
		}
	}
	var missing uint64
	for q := uint64(1); q <= e.seq; q++ {
		stored := ids[event.MakeID(e.boot, q)] == 1
		if !stored {
			missing++
		}
		if stored == (named[q] == 1) || named[q] > 1 {
			t.Fatalf("seq %d: stored %v, named by %d loss records (%d rows: %+v)", q, stored, named[q], len(losses), losses[:min(len(losses), 4)])
		}
	}
	if missing == 0 || missing > dropped {
		t.Fatalf("%d events missing from the store, the spool dropped %d records, loss records included", missing, dropped)
	}
	t.Logf("%d events, %d dropped from a 1 MiB spool, in %d loss rows", e.seq, dropped, len(losses))
}

// spoolFullNamed counts the seqs agentID's stored spool_full loss rows name.
func spoolFullNamed(t *testing.T, data, agentID string) uint64 {
	t.Helper()
	db, err := openStoreRO(data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n uint64
	if err := db.QueryRow(`SELECT coalesce(sum(to_seq - from_seq + 1), 0) FROM loss WHERE agent_id = ? AND reason = ? AND to_seq > 0`,
		agentID, publish.ReasonSpoolFull).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The real agent, killed with SIGKILL, raises the liveness alert.
func TestAgentSIGKILLRaisesLivenessAlert(t *testing.T) {
	testkernel.RequireRoot(t)
	data := t.TempDir()
	port := testproc.FreePort(t)
	c := startCollector(t, data, port)
	cfg := enrolled(t, data, "leeds", "")
	dir := t.TempDir()
	credsPath := filepath.Join(dir, "agent.creds")
	os.WriteFile(credsPath, fmt.Appendf(nil, "site = %q\nhost = \"ws-e2e\"\nagent_id = %q\nseed = %q\n",
		cfg.Identity.Site, cfg.Identity.AgentID, cfg.Identity.Seed), 0o600)
	hcl := fmt.Sprintf(`state_dir = %q
rules_dir = %q
collector {
  url       = "nats://127.0.0.1:%d"
  creds     = %q
  heartbeat = "1s"
}
`, filepath.Join(dir, "state"), filepath.Join(dir, "no-rules"), port, credsPath)
	os.WriteFile(filepath.Join(dir, "agent.hcl"), []byte(hcl), 0o600)
	agent := startAgentProcess(t, filepath.Join(dir, "agent.hcl"), 4) // the config turns no sensor off

	type agentRow struct {
		AgentID string `json:"agent_id"`
		Status  string `json:"status"`
	}
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		var agents []agentRow
		c.get(t, "/api/agents", &agents)
		if len(agents) != 1 || agents[0].AgentID != cfg.Identity.AgentID || agents[0].Status != "ok" {
			return fmt.Errorf("agents %+v, waiting for %s with status ok", agents, cfg.Identity.AgentID)
		}
		return nil
	})
	var alerts []store.Alert
	c.get(t, "/api/alerts?rule=vigil_agent_silent", &alerts)
	if len(alerts) != 0 {
		t.Fatalf("silent alert while the agent runs: %v", alerts[0].Event.Alert.Summary)
	}
	killed := time.Now()
	agent.Stop(syscall.SIGKILL, 0)
	testproc.CheckFor(t, 30*time.Second, poll, func() error {
		c.get(t, "/api/alerts?rule=vigil_agent_silent", &alerts)
		if len(alerts) != 1 {
			return fmt.Errorf("%d vigil_agent_silent alerts, waiting for one", len(alerts))
		}
		return nil
	})
	if after := time.Since(killed); after < 2*time.Second {
		t.Fatalf("silent alert %s after the kill: before three 1 s intervals passed", after)
	}
	a := alerts[0].Event
	if a.AgentID != cfg.Identity.AgentID || a.Alert.Severity != "high" {
		t.Fatalf("alert %+v", a.Alert)
	}
	var agents []agentRow
	c.get(t, "/api/agents", &agents)
	if agents[0].Status != "silent" {
		t.Fatalf("agent status %q, want silent", agents[0].Status)
	}
}

package e2e

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/internal/testproc"
)

// dropStreamStore removes the events stream's files from the collector's
// JetStream store, as a power loss of the collector host may: the kernel
// here offers no fault-injecting block device, and JetStream flushes its
// files only every two minutes, so a power loss can take everything it
// acknowledged since. Removing the whole stream (messages, dedupe state,
// consumers) is stricter than losing its unsynced tail.
func dropStreamStore(t *testing.T, data string) int {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(data, "jetstream", "*", "*", "streams", bus.Stream))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
	}
	return len(dirs)
}

// The collector host loses power under load, again and again: each time
// its process is killed with -9 and the events stream loses what it held
// (dropStreamStore). The agent keeps what it spooled until the collector
// has stored it, not only until JetStream acknowledged it, so after the
// last restart every event it spooled is stored exactly once and no loss
// is reported.
func TestCollectorPowerLossLosesNoAcknowledgedEvent(t *testing.T) {
	data, port, c, e, stop, done := collectorUnderLoad(t, "bootpl")
	const crashes = 6
	for i := range crashes {
		stored := storedCount(t, data, e.id)
		testproc.CheckFor(t, 60*time.Second, poll, func() error { return storedMoreThan(t, data, e.id, stored+1000) })
		c.Stop(syscall.SIGKILL, 0)
		if dropStreamStore(t, data) == 0 {
			t.Fatalf("crash %d: no %s stream store found under %s", i+1, bus.Stream, data)
		}
		c = startCollector(t, data, port)
	}
	stored := storedCount(t, data, e.id)
	testproc.CheckFor(t, 60*time.Second, poll, func() error { return storedMoreThan(t, data, e.id, stored+1000) })
	close(stop)
	<-done
	testproc.CheckFor(t, 30*time.Second, poll, func() error { return storedAll(t, data, e) })
	c.Stop(syscall.SIGTERM, 0)
	checkExactlyOnce(t, data, e)
	t.Logf("%d events, the collector host lost power %d times under load", e.seq, crashes)
}

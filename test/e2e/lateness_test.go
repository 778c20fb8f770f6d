package e2e

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testproc"
)

// A thousand alerts under load, each sent by the agent's fast lane ahead of
// the events queued before it: every event arrives late, none is lost, and
// the collector counts, stores and logs no loss for them.
func TestThousandAlertsUnderLoadLoseNothing(t *testing.T) {
	data := t.TempDir()
	port := testproc.FreePort(t)
	cfg := enrolled(t, data, "leeds", fmt.Sprintf("nats://127.0.0.1:%d", port))
	c := startCollector(t, data, port)
	id := cfg.Identity.AgentID
	pub := newPublisher(t, cfg, "leeds", id)
	const alerts, perAlert = 1000, 49
	boot := "bootlate"
	var seq uint64
	for range alerts {
		for range perAlert {
			seq++
			ev := &event.Event{ID: event.MakeID(boot, seq), Time: time.Now().UTC(), Kind: event.KindFileWrite,
				Site: "leeds", Host: "ws-e2e", AgentID: id, BootID: boot, Seq: seq,
				Process: &event.Process{PID: 42, User: "mona", LoginUser: "mona", LoginUID: 1013},
				File:    &event.File{Path: fmt.Sprintf("/home/mona/export-%d.csv", seq), Bytes: 4096}}
			if err := pub.Publish(ev); err != nil {
				t.Fatal(err)
			}
		}
		seq++
		al := &event.Event{ID: event.MakeID(boot, seq), Time: time.Now().UTC(), Kind: event.KindAlert,
			Site: "leeds", Host: "ws-e2e", AgentID: id, BootID: boot, Seq: seq,
			Process: &event.Process{PID: 42, User: "mona", LoginUser: "mona", LoginUID: 1013},
			Alert:   &event.Alert{Rule: "export_written", Severity: event.SeverityHigh, Scope: "host", Summary: "mona wrote an export"}}
		if err := pub.Publish(al); err != nil {
			t.Fatal(err)
		}
	}
	// Everything arrives: the events stored, the alerts too, and no gap
	// left pending once the last late event has filled it.
	testproc.CheckFor(t, 180*time.Second, poll, func() error {
		db, err := openStoreRO(data)
		if err != nil {
			return err
		}
		defer db.Close()
		var events, stored, gaps int
		ctx := context.Background()
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE agent_id = ?`, id).Scan(&events); err != nil {
			return err
		}
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM alerts WHERE agent_id = ?`, id).Scan(&stored); err != nil {
			return err
		}
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM loss WHERE agent_id = ?`, id).Scan(&gaps); err != nil {
			return err
		}
		if events < alerts*perAlert || stored != alerts || gaps != 0 {
			return fmt.Errorf("%d of %d events and %d of %d alerts stored, %d loss records", events, alerts*perAlert, stored, alerts, gaps)
		}
		return nil
	})
	if lost := lostEvents(t, c); lost != 0 {
		t.Errorf("vigil_collector_lost_events_total = %v for events that were only late", lost)
	}
	if strings.Contains(c.Log(), "events lost") {
		t.Errorf("the collector logged a loss:\n%s", testproc.Tail(c.Log(), 2000))
	}
}

// lostEvents sums vigil_collector_lost_events_total over its reasons.
func lostEvents(t *testing.T, c *collector) float64 {
	t.Helper()
	resp, err := c.Get(t.Context(), "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "vigil_collector_lost_events_total") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		sum += v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sum
}

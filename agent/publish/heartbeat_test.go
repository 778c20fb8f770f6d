package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testproc"
)

func TestHeartbeatCarriesCounters(t *testing.T) {
	port := testproc.FreePort(t)
	_, st := startServer(t, port, t.TempDir())
	p := newPublisher(t, fmt.Sprintf("nats://127.0.0.1:%d", port), t.TempDir(), func(c *Config) { c.HeartbeatEvery = 100 * time.Millisecond })
	f := &fakeAgent{pub: p, sensors: []string{"process", "file"}}
	p.Start(f)
	emitN(f, 3)
	ctx := context.Background()
	var hb *event.Event
	testproc.CheckFor(t, 5*time.Second, pollEvery, func() error {
		m, err := st.GetLastMsgForSubject(ctx, "vigil.leeds.ag-1.heartbeat")
		if err != nil {
			return fmt.Errorf("no heartbeat: %w", err)
		}
		if hb, err = event.Decode(m.Data); err != nil {
			return err
		}
		if hb.Heartbeat.Events != 3 {
			return fmt.Errorf("heartbeat counts %d events, want 3", hb.Heartbeat.Events)
		}
		return nil
	})
	h := hb.Heartbeat
	if h.IntervalS != 1 || fmt.Sprint(h.Sensors) != "[process file]" || hb.Seq != 0 || hb.BootID != "boot1" || hb.Site != "leeds" || hb.AgentID != "ag-1" {
		b, _ := json.Marshal(hb)
		t.Fatalf("heartbeat %s", b)
	}
	p.Close()
	// The farewell heartbeat says the agent stopped (interval 0).
	m, err := st.GetLastMsgForSubject(ctx, "vigil.leeds.ag-1.heartbeat")
	if err != nil {
		t.Fatal(err)
	}
	last, _ := event.Decode(m.Data)
	if last.Heartbeat.IntervalS != 0 {
		t.Fatalf("last heartbeat interval %d, want 0 (stopping)", last.Heartbeat.IntervalS)
	}
}

package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

func TestHeartbeatCarriesCounters(t *testing.T) {
	port := freePort(t)
	_, st := startServer(t, port, t.TempDir())
	p := newPublisher(t, fmt.Sprintf("nats://127.0.0.1:%d", port), t.TempDir(), func(c *Config) { c.HeartbeatEvery = 100 * time.Millisecond })
	f := &fakeAgent{pub: p, sensors: []string{"process", "file"}}
	p.Start(f)
	emitN(f, 3)
	ctx := context.Background()
	var hb *event.Event
	waitFor(t, "heartbeat", 5*time.Second, func() bool {
		m, err := st.GetLastMsgForSubject(ctx, "vigil.leeds.ag-1.heartbeat")
		if err != nil {
			return false
		}
		hb, err = event.Decode(m.Data)
		return err == nil && hb.Heartbeat.Events == 3
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

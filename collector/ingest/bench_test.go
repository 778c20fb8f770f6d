package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/correlate"
	"github.com/vigilhq/vigil/collector/metrics"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testproc"
)

// benchEvents is how many events one benchmark op drains from the stream.
const benchEvents = 20000

// realistic returns the i-th event of a mix like the agent's under load:
// mostly file.write, then db.query and net.transfer, from four agents at
// two sites, each agent numbering its own events.
func realistic(i int, seqs map[string]uint64) *event.Event {
	agents := [...]struct{ site, id string }{{"leeds", "ag-leeds-1"}, {"leeds", "ag-leeds-2"}, {"manila", "ag-manila-1"}, {"manila", "ag-manila-2"}}
	a := agents[i%len(agents)]
	seqs[a.id]++
	seq := seqs[a.id]
	boot := "b-" + a.id
	e := &event.Event{ID: event.MakeID(boot, seq), Time: t0.Add(time.Duration(i) * time.Millisecond), Site: a.site,
		Host: "ws-" + a.id, AgentID: a.id, BootID: boot, Seq: seq,
		Process: &event.Process{PID: uint32(4000 + i%50), PPID: 3990, Exe: "/usr/bin/python3", Comm: "python3",
			Cmdline: "python3 /home/mona/export.py --out /tmp/report.csv", UID: 1013, User: "mona", LoginUID: 1013,
			LoginUser: "mona", Session: 7, TTY: "pts/1", StartTime: t0}}
	switch i % 20 {
	case 0, 1, 2:
		e.Kind = event.KindNetTransfer
		e.Net = &event.Net{Proto: "tcp", Family: "ipv4", Direction: "outbound", SrcIP: "10.1.2.3", SrcPort: uint16(40000 + i%1000),
			DstIP: "203.0.113.7", DstPort: 443, DstName: "files.example.com", BytesSent: uint64(1000 + i), BytesReceived: 512,
			Packets: 9, DurationMS: 40, Reason: "close"}
	case 3, 4, 5, 6, 7:
		e.Kind = event.KindDBQuery
		e.DB = &event.DB{Engine: "postgresql", Side: "client", Server: "10.1.0.5:5432", Client: "10.1.2.3:51234", User: "app",
			Database: "crm", Statement: "SELECT id, name, email, phone FROM customers WHERE region = ? AND created_at > ?",
			Fingerprint: "6c1f9a2e", Tables: []string{"customers"}, Columns: []string{"id", "name", "email", "phone"},
			Command: "SELECT", Rows: uint64(20 + i%100), Bytes: 4096, DurationMS: 1.7}
	default:
		e.Kind = event.KindFileWrite
		e.File = &event.File{Path: fmt.Sprintf("/home/mona/exports/report-%d.csv", i%1000), Bytes: 512, Writes: 4,
			Flags: []string{"O_WRONLY", "O_CREAT", "O_TRUNC"}, Mount: "/home", FSType: "ext4", Created: true, Reason: "close",
			DurationMS: 2}
	}
	return e
}

// publishRealistic puts n realistic events in the stream, one per message
// (asynchronously, event id as Nats-Msg-Id), and waits for every ack.
func publishRealistic(tb testing.TB, js jetstream.JetStream, n int) {
	publishBatched(tb, js, n, 0)
}

// publishBatched publishes as publishRealistic does, but joins each
// agent's consecutive events into messages of up to maxBytes, as the agent
// does (docs/events.md); 0 sends one event per message.
func publishBatched(tb testing.TB, js jetstream.JetStream, n, maxBytes int) {
	tb.Helper()
	type pending struct {
		subject, first string
		data           []byte
		n              int
	}
	open := map[string]*pending{}
	send := func(p *pending) {
		id := p.first
		if p.n > 1 {
			id = fmt.Sprintf("%s+%d", p.first, p.n)
		}
		if _, err := js.PublishAsync(p.subject, p.data, jetstream.WithMsgID(id)); err != nil {
			tb.Fatal(err)
		}
	}
	seqs := map[string]uint64{}
	for i := range n {
		e := realistic(i, seqs)
		data, err := event.Encode(e)
		if err != nil {
			tb.Fatal(err)
		}
		p := open[e.AgentID]
		if p != nil && len(p.data)+1+len(data) > maxBytes {
			send(p)
			p = nil
		}
		if p == nil {
			p = &pending{subject: event.Subject(e.Site, e.AgentID, event.ClassEvents), first: e.ID}
			open[e.AgentID] = p
		} else {
			p.data = append(p.data, '\n')
		}
		p.data = append(p.data, data...)
		p.n++
	}
	for _, p := range open {
		send(p)
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(2 * time.Minute):
		tb.Fatal("publishing: acks did not come")
	}
}

// startBus runs the embedded JetStream the collector runs, with its
// stream; the caller closes it.
func startBus(tb testing.TB) *bus.Bus {
	tb.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := bus.Start(context.Background(), bus.Config{DataDir: tb.TempDir(), Listen: "127.0.0.1:-1"}, quiet)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkIngest drains benchEvents realistic events from a real embedded
// JetStream into a real store, with the shipped correlation rules, and
// reports the stored rate and the process CPU (collector and its embedded
// NATS) per event: one event per message, and in messages of up to 64 KiB
// as the agent sends them.
func BenchmarkIngest(b *testing.B) {
	inFile := func(b *testing.B) string { return filepath.Join(b.TempDir(), "vigil.db") }
	b.Run("message-per-event", func(b *testing.B) { benchIngest(b, 0, inFile) })
	b.Run("agent-batches", func(b *testing.B) { benchIngest(b, 64<<10, inFile) })
	// The same collector storing to PostgreSQL (--store postgres://), on
	// this host, with fsync on as SQLite's commits are synced.
	b.Run("agent-batches-postgres", func(b *testing.B) {
		srv := testdb.StartPostgres(b, testdb.Options{Settings: map[string]string{"fsync": "on"}})
		dbs := 0
		benchIngest(b, 64<<10, func(b *testing.B) string {
			dbs++
			name := fmt.Sprintf("vigil_%d", dbs)
			db, err := sql.Open("pgx", srv.DSN)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
				b.Fatal(err)
			}
			return strings.Replace(srv.DSN, "/postgres?", "/"+name+"?", 1)
		})
	})
}

// benchIngest stores benchEvents through one collector's ingest into the
// store at the target each run gets.
func benchIngest(b *testing.B, maxBytes int, target func(*testing.B) string) {
	var stored, wall, cpu float64
	for b.Loop() {
		b.StopTimer()
		bs := startBus(b)
		publishBatched(b, bs.JS, benchEvents, maxBytes)
		st, err := store.Open(target(b))
		if err != nil {
			b.Fatal(err)
		}
		corr, err := correlate.Load("../../rules/packs", slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			b.Fatal(err)
		}
		m := metrics.New(nil)
		in := New(Options{Store: st, Correlation: corr, Metrics: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		c0 := testproc.CPUTime()
		start := time.Now()
		b.StartTimer()
		go func() { done <- runIngest(ctx, in, bs) }()
		for testutil.ToFloat64(m.Messages.WithLabelValues("stored")) < benchEvents {
			time.Sleep(2 * time.Millisecond)
		}
		b.StopTimer()
		el := time.Since(start)
		cpu += float64(testproc.CPUTime() - c0)
		wall += float64(el)
		stored += benchEvents
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		if n, _ := st.CountEvents(context.Background()); n != benchEvents {
			b.Fatalf("%d events stored, want %d", n, benchEvents)
		}
		st.Close()
		bs.Close()
		b.StartTimer()
	}
	b.ReportMetric(stored/(wall/1e9), "events/s")
	b.ReportMetric(cpu/stored, "cpu-ns/event")
	b.ReportMetric(wall/stored, "ns/event")
}

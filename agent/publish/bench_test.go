package publish

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testnats"
	"github.com/vigilhq/vigil/internal/testproc"
)

// The publish benchmarks run nats-server as its own process (built from the
// module by testnats.Binary), so getrusage(RUSAGE_SELF) counts the agent's
// side only; the server's CPU is read from /proc and reported apart.

type benchServer struct {
	url string
	cmd *exec.Cmd
}

func startBenchServer(b *testing.B) *benchServer {
	b.Helper()
	bin := testnats.Binary(b)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	store := b.TempDir()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", store)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	var nc *nats.Conn
	deadline := time.Now().Add(20 * time.Second)
	for {
		var err error
		if nc, err = nats.Connect(url); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("nats-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateOrUpdateStream(context.Background(), streamConfig("vigil.>")); err != nil {
		b.Fatal(err)
	}
	return &benchServer{url: url, cmd: cmd}
}

// procCPU is the user+system CPU of another process, from /proc/pid/stat.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100) // USER_HZ
}

func benchEvent(seq uint64) *event.Event {
	return &event.Event{ID: event.MakeID("bootbench", seq), Time: time.Now().UTC(), Kind: event.KindFileWrite,
		Site: "leeds", Host: "ws-a", AgentID: "ag-1", BootID: "bootbench", Seq: seq,
		Process: &event.Process{PID: 4242, PPID: 1, Exe: "/usr/bin/python3", Comm: "python3",
			Cmdline: "python3 /opt/vendor/export.py --out /home/vendor/dump.csv", UID: 1001, User: "vendor",
			LoginUID: 1001, LoginUser: "vendor", Session: 7, TTY: "pts/1"},
		File: &event.File{Path: "/home/vendor/dump.csv", Bytes: 65536}}
}

// runPublish publishes b.N events, every pace apart when pace > 0, and waits
// until JetStream has acknowledged them all.
func runPublish(b *testing.B, pace time.Duration, noop, sync bool) {
	srv := startBenchServer(b)
	p, err := New(&Config{URL: srv.url, SpoolDir: b.TempDir(), HeartbeatEvery: time.Hour},
		Options{Site: "leeds", Host: "ws-a", AgentID: "ag-1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	p.sp.SetSync(sync)
	// Warm up the connection and the stream.
	for i := range 100 {
		if err := p.Publish(benchEvent(uint64(i + 1))); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Drain(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	srvCPU0, cpu0, t0 := procCPU(srv.cmd.Process.Pid), testproc.CPUTime(), time.Now()
	b.ResetTimer()
	next := time.Now()
	for i := range b.N {
		if pace > 0 {
			next = next.Add(pace)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
		}
		if noop {
			continue
		}
		if err := p.Publish(benchEvent(uint64(i + 101))); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Drain(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	elapsed, cpu, srvCPU := time.Since(t0), testproc.CPUTime()-cpu0, procCPU(srv.cmd.Process.Pid)-srvCPU0
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/event")
	b.ReportMetric(float64(srvCPU.Nanoseconds())/float64(b.N), "server-cpu-ns/event")
	if st := p.Stats(); !noop && st.Acked < uint64(b.N) {
		b.Fatalf("%d acked of %d", st.Acked, b.N)
	}
}

// BenchmarkPublish publishes as fast as it can (burst) and at 1,000 events/s
// (paced); paced-noop is the pacing loop alone, to subtract from paced.
// The -nosync runs leave out the spool's sync at each flush, to measure it.
// Paced runs take a millisecond an event: run them with -benchtime=3000x.
func BenchmarkPublish(b *testing.B) {
	b.Run("burst", func(b *testing.B) { runPublish(b, 0, false, true) })
	b.Run("burst-nosync", func(b *testing.B) { runPublish(b, 0, false, false) })
	b.Run("paced", func(b *testing.B) { runPublish(b, time.Millisecond, false, true) })
	b.Run("paced-nosync", func(b *testing.B) { runPublish(b, time.Millisecond, false, false) })
	b.Run("paced-noop", func(b *testing.B) { runPublish(b, time.Millisecond, true, true) })
}
